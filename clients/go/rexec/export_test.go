package rexec

// Connections is how many connections c holds now, for the tests of the
// pool (package rexec_test).
func Connections(c *Client) int {
	c.pool.mu.Lock()
	defer c.pool.mu.Unlock()
	return len(c.pool.connections)
}
