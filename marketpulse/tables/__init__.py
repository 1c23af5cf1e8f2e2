"""Table state: the records agents keep per key, and the decoded copies in front of them."""
