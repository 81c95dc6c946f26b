CREATE TABLE rate_limits (
    bucket VARCHAR(80) NOT NULL, 
    hits INTEGER NOT NULL, 
    expires_at DATETIME NOT NULL, 
    PRIMARY KEY (bucket)
)ENGINE=InnoDB CHARSET=utf8mb4;

CREATE INDEX idx_rate_limits_expires ON rate_limits (expires_at);

DROP INDEX idx_rate_limits_expires ON rate_limits;

DROP TABLE rate_limits;

