#!/bin/sh
# Initialise the data directory on first start, then serve. /etc/twin/init.sql (root
# only, copied in by the local cloud) creates the master user and the database; the
# server runs it at start (--init-file) from a copy only the mysql user can read.
set -eu
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql --skip-test-db \
    --auth-root-authentication-method=socket >/dev/null
fi
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
set --
if [ -f /etc/twin/init.sql ]; then
  install -o mysql -g mysql -m 0600 /etc/twin/init.sql /run/mysqld/init.sql
  set -- --init-file=/run/mysqld/init.sql
fi
exec mariadbd --user=mysql --datadir=/var/lib/mysql "$@"
