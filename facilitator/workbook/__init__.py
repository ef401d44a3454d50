"""The participant's workbook: worksheet answers typed on screen, submitted, and reviewed by staff."""
