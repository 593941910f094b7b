"""What the benchmarks share: ``report`` (printing), ``stats`` (the figures), ``child`` (child
processes), ``botapi`` (a stand-in Bot API), ``shell`` (the bot from the production assembly,
recording transports) and ``cases``. Nothing is imported here: a memory child imports only
what it measures."""
