"""The participant's own corner of the app: the worksheets of their meetings on /me, their private calendar
feed, and the download of their records."""
