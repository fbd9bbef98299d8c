"""One module per figure of the benchmark issue; each returns a :class:`bench.results.FigureResult`."""
