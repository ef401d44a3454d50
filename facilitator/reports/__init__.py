"""Program numbers for directors: census, outcomes, retention, exports."""
