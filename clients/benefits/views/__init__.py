"""The member's pages, one blueprint each."""
