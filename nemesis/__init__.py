"""The nemesis: random operations under a seeded fault schedule, and a checker of the history.

``python -m nemesis --seed N --seconds S --store sqlite|dynamodb|redis`` (or ``make nemesis``)
starts agents on loopback, drives them with concurrent clients while faults are injected, heals,
and checks the recorded history against the guarantees stated in :mod:`nemesis.invariants`.
"""
