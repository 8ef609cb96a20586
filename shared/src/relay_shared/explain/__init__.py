"""The per-run explain index: written by pricing when it merges a run, read by the gateway
(``GET /v1/runs/{run_id}/skus/{sku}/explain``) and by ``relay local-run --explain``.

- :mod:`.index_format`: the index's columns, its manifest and its chunked layout;
- :mod:`.answer`: one SKU's rows of the index → the explain answer (pure);
- :mod:`.reader`: a lookup against the object store (the manifest, then one ranged read).
"""
