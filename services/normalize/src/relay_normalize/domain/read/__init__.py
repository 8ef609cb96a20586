"""Reading a feed: its bytes (:mod:`.feed_source`) → a table of text cells by position
(:mod:`.raw_table`; CSV, JSON/JSONL and XLSX readers, dispatched by :mod:`.feed_table`) →
the columns of the vendor's canonical fields (:mod:`.columns`)."""
