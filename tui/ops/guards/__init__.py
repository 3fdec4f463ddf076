"""The guards that keep a sync from wiping the mirror, each in one home (docs/safety.md says
why each exists):
    source.py     the source: reachable, readable, not empty, mounted (the pre-flight's
                  look), then counted and judged: empty, sentinel, ratio
    baseline.py   what the last successful sync counted, carried in the JSON summary
    deletes.py    the delete guard (--max-delete) and its allowance for partial files
"""
