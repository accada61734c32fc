"""redis-infra Pulumi program: everything lives in redisinfra.program (this file stays thin)."""
from redisinfra.program import main

main()
