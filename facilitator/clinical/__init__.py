"""Drug and breath tests, and relapse analyses."""
