"""Users, roles, sign-in and sign-out."""
