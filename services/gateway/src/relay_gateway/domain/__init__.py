"""The gateway's pure rules: no I/O, no asyncio."""
