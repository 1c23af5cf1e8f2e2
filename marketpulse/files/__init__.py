"""Reading and writing the files the batch commands and replay use."""
