"""The benefits relying party: a member's balances, contributions, statements and claims."""
