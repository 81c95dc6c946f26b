CREATE TABLE users (
    id VARCHAR(36) NOT NULL, 
    email VARCHAR(255) NOT NULL, 
    name VARCHAR(255), 
    google_id VARCHAR(255), 
    subscription_tier ENUM('free','pro','ultra') NOT NULL DEFAULT 'free', 
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, 
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, 
    PRIMARY KEY (id), 
    UNIQUE (email), 
    UNIQUE (google_id)
)ENGINE=InnoDB CHARSET=utf8mb4;

CREATE INDEX idx_email ON users (email);

CREATE INDEX idx_google_id ON users (google_id);

CREATE TABLE billing (
    id INTEGER NOT NULL AUTO_INCREMENT, 
    user_id VARCHAR(36) NOT NULL, 
    stripe_customer_id VARCHAR(255), 
    stripe_subscription_id VARCHAR(255), 
    amount DECIMAL(10, 2), 
    currency VARCHAR(3), 
    status ENUM('active','canceled','past_due','incomplete','trialing','unpaid'), 
    tier ENUM('free','pro','ultra') NOT NULL DEFAULT 'free', 
    current_period_end DATETIME, 
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, 
    updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, 
    PRIMARY KEY (id), 
    UNIQUE (user_id), 
    FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4;

CREATE INDEX idx_user_id ON billing (user_id);

CREATE INDEX idx_stripe_subscription ON billing (stripe_subscription_id);

CREATE INDEX idx_stripe_customer ON billing (stripe_customer_id);

CREATE TABLE refresh_tokens (
    token_hash VARCHAR(64) NOT NULL, 
    user_id VARCHAR(36) NOT NULL, 
    family_id VARCHAR(36) NOT NULL, 
    expires_at DATETIME NOT NULL, 
    used BOOL NOT NULL DEFAULT false, 
    revoked BOOL NOT NULL DEFAULT false, 
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, 
    PRIMARY KEY (token_hash), 
    FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
)ENGINE=InnoDB CHARSET=utf8mb4;

CREATE INDEX idx_refresh_family ON refresh_tokens (family_id);

CREATE INDEX idx_refresh_user ON refresh_tokens (user_id);

CREATE TABLE stripe_events (
    event_id VARCHAR(255) NOT NULL, 
    event_type VARCHAR(100) NOT NULL, 
    processed_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, 
    PRIMARY KEY (event_id)
)ENGINE=InnoDB CHARSET=utf8mb4;

DROP TABLE stripe_events;

DROP TABLE refresh_tokens;

DROP TABLE billing;

DROP TABLE users;

