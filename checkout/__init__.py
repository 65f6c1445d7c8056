"""The checkout: the saga that places, cancels and moves orders along their lifecycle, restocks,
and recovers what an interrupted process left (`saga`), and the named fault points tests arm to
fail or kill a process at each of its steps (`faults`). Uses datasources, never the schema."""
