"""A realistic demo program for trying the app and for screenshots."""
