"""Screen layouts as plain component trees: no data access inside."""
