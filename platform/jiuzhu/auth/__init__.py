"""Authentication and authorisation: users, roles, passwords, login throttling."""
