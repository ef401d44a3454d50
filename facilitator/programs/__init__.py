"""Programs (clinics or sites): their settings, attendance statuses and holidays."""
