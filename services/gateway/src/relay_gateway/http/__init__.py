"""The HTTP API: routes declared once, their handlers, and what every request passes through."""
