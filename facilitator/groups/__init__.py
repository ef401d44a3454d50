"""Groups, their weekly pattern of slots, meetings and cancellations."""
