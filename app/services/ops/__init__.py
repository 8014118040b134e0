"""Operations (A12): component health (health), the live metrics read as numbers (pulse), alert
rules and their channels (alerts, channels), the monitor process that ties them (monitor),
backups and restore (backups), personal data export and erasure (privacy)."""
