"""The `bookgraph` command (`commands`) and the background worker it runs (`worker`)."""
