"""Sign-in attempt limits, for the storefront and the admin alike: 5 failures per 15
minutes per (email, client IP) pair (guessing one account's password from one place) and
20 per 15 minutes per client IP (trying many accounts from one place).

The lock is per pair, not per email, so someone who knows an address cannot lock its
owner out: the owner signing in from elsewhere has a budget of their own.

An attempt is reserved before the password is checked (`reserve`, one atomic step in
Redis), so parallel requests cannot get more password checks than the limit; a sign-in
that succeeds gives its reservation back and clears the pair's count. The IP count is
only given back, never cleared, so an attacker cannot reset it by signing in to an
account of their own.

The IP is apps.core.ratelimit.client_ip (REMOTE_ADDR, or behind NUM_PROXIES of our own
proxies the entry they wrote in X-Forwarded-For). While Redis is unreachable the limits
count in each worker process's memory (Outage.LOCAL): sign-in keeps working and stays
limited, with one budget per process instead of one overall."""

from dataclasses import dataclass

from apps.core.ratelimit import Limit, Outage

MAX_FAILURES = 5
MAX_FAILURES_PER_IP = 20
WINDOW_SECONDS = 15 * 60

SIGN_IN = Limit(
    scope="sign_in",
    rate_settings={"pair": "SIGN_IN_PAIR_RATE", "ip": "SIGN_IN_IP_RATE"},
    defaults={
        "pair": f"{MAX_FAILURES}/{WINDOW_SECONDS}s",
        "ip": f"{MAX_FAILURES_PER_IP}/{WINDOW_SECONDS}s",
    },
    when_redis_is_down=Outage.LOCAL,
)


def _keys(email: str, ip: str) -> dict[str, str]:
    address = ip.strip().lower() or "unknown"
    return {"pair": f"{email.strip().lower()}|{address}", "ip": address}


@dataclass(frozen=True)
class Attempt:
    """A reserved sign-in attempt: `allowed` says whether the password may be checked."""

    allowed: bool
    retry_after: int
    email: str
    ip: str
    token: str

    def succeeded(self) -> None:
        """The password was right: clear the pair's failures, give the IP its slot back."""
        keys = _keys(self.email, self.ip)
        SIGN_IN.reset({"pair": keys["pair"]})
        SIGN_IN.release({"ip": keys["ip"]}, self.token)


def reserve(email: str, ip: str) -> Attempt:
    """Count one attempt for this email from this IP, before any password check."""
    decision = SIGN_IN.hit(_keys(email, ip))
    return Attempt(decision.allowed, decision.retry_after, email, ip, decision.token)


def locked_message(retry_after: int) -> str:
    minutes = max(1, -(-retry_after // 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many attempts. Please wait {minutes} {unit} and try again."
