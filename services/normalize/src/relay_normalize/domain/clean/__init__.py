"""Cleaning a feed's table: one table of field rules (:mod:`.fields`) drives the vectorised
path for every row (:mod:`.vectorised`) and the per-cell path for the dirty rows
(:mod:`.dirty_rows`); :mod:`.rows` puts them together with the rejections, warnings and
duplicates."""
