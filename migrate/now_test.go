package migrate

import "time"

var testNow = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
