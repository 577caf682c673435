"""Read-only queries for the web pages and the API, one module per subject: people,
visitors, visits, contact forms, education, presence, gates, breaches.

Every function takes a Session first and returns rows (schema objects or small dataclasses
of them); none writes, and filters run in SQL so a list is never cut short before it is
filtered. Masking personal data (R20) is the caller's job, since it depends on who is
looking.
"""
