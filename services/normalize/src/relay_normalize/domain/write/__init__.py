"""What a feed's normalization hands on: the normalized offers (typed frame and CSV,
:mod:`.normalized_csv`) and the per-vendor report (:mod:`.report`)."""
