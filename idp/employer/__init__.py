"""The employer portal: employers register their employees; administrators are invited."""
