"""The DataFlare pipeline example: six plugin components chained by a small Python host."""
