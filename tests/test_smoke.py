def test_ping_echo_and_unknown(diff):
    diff.do("PING")
    diff.do("PING", "hello")
    diff.do("ECHO", "x")
    diff.do("FOO", "a", "b")
    diff.do("PING", "a", "b")
    diff.do("SELECT", "20")
    diff.do("SELECT", "x")
