"""The web shell: home page, health check, error pages."""
