"""Early warnings: absences, attendance rate, hours, positive tests, missed modules."""
