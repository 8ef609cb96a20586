"""Sheet backends (xlsx workbooks)."""
