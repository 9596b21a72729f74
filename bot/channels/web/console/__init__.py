"""The county HR console: sign-in by one-time link, sessions with CSRF tokens, scoped pages."""
