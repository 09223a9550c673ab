"""Who may see and do what: roles, principals, passwords, tokens, masking and the web guard (docs/access.md)."""
