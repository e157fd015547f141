"""The instructor dashboard: server-rendered pages over the same domain functions as the API."""
