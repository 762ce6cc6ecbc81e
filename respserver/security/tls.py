"""TLS: the server's ``ssl.SSLContext``, built from the tls-* parameters as Redis 7.0's
tlsConfigure builds its SSL_CTX, with the lines Redis logs when it cannot be built.

The context is built when the server starts (a failure stops it, as redis-server exits) and again
when CONFIG SET changes a parameter it is built from: a failed rebuild fails that CONFIG SET and
keeps the old context. ``tls-auth-clients`` is not built in: Redis reads it for each accepted
connection, so ``connection_context`` applies it then.
"""

from __future__ import annotations

import logging
import re
import ssl

from respserver.config import Config, InvalidValue

log = logging.getLogger("respserver")

# The parameters whose change makes Redis rebuild its context (applyTlsCfg in config.c).
REBUILT_BY = (
    "tls-cert-file",
    "tls-key-file",
    "tls-key-file-pass",
    "tls-ca-cert-file",
    "tls-ca-cert-dir",
    "tls-protocols",
    "tls-ciphers",
    "tls-ciphersuites",
    "tls-prefer-server-ciphers",
)

AUTH_CLIENTS = {"no": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "yes": ssl.CERT_REQUIRED}

PROTOCOLS = {
    "tlsv1": ssl.TLSVersion.TLSv1,
    "tlsv1.1": ssl.TLSVersion.TLSv1_1,
    "tlsv1.2": ssl.TLSVersion.TLSv1_2,
    "tlsv1.3": ssl.TLSVersion.TLSv1_3,
}
DEFAULT_PROTOCOLS = ("tlsv1.2", "tlsv1.3")

# OpenSSL 3's TLS 1.3 suites: what SSL_CTX_set_ciphersuites knows.
CIPHERSUITES = {
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "TLS_AES_128_CCM_SHA256",
    "TLS_AES_128_CCM_8_SHA256",
}

FAILED_AT_START = "Failed to configure TLS. Check logs for more info."
FAILED_ON_SET = "Unable to update TLS configuration. Check server logs."


class TLSConfigError(Exception):
    """The context cannot be built; the message is the line Redis logs for the reason."""


class TLS:
    """The context a TLS listener hands to each new connection."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.context = build_context(config)

    def connection_context(self) -> ssl.SSLContext:
        """The context, verifying client certificates as ``tls-auth-clients`` says now (the
        mode is copied into each connection when it is wrapped)."""
        self.context.verify_mode = AUTH_CLIENTS[self.config.tls_auth_clients]
        return self.context

    def reconfigure(self, config: Config) -> None:
        """CONFIG SET's apply step for REBUILT_BY: a new context from ``config`` (the values
        about to be set), or InvalidValue with Redis's reply text and the old one kept."""
        try:
            self.context = build_context(config)
        except TLSConfigError as exc:
            log.warning("%s", exc)
            raise InvalidValue(FAILED_ON_SET) from None


def build_context(config: Config) -> ssl.SSLContext:
    """A server context from the tls-* parameters; TLSConfigError says why there is none, in
    Redis's words and in Redis's order of checks."""
    cert, key = config.tls_cert_file, config.tls_key_file
    ca_file, ca_dir = config.tls_ca_cert_file, config.tls_ca_cert_dir
    if not cert:
        raise TLSConfigError("No tls-cert-file configured!")
    if not key:
        raise TLSConfigError("No tls-key-file configured!")
    if config.tls_auth_clients != "no" and not ca_file and not ca_dir:
        raise TLSConfigError(
            "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster,"
            " tls-replication or tls-auth-clients are enabled!"
        )
    versions = _protocols(config.tls_protocols)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version, context.maximum_version = min(versions), max(versions)
    context.options |= ssl.OP_NO_RENEGOTIATION  # Redis refuses client renegotiation too
    if config.tls_prefer_server_ciphers:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    _load_certificate_and_key(context, cert, key, config.tls_key_file_pass)
    if ca_file or ca_dir:
        try:
            context.load_verify_locations(ca_file or None, ca_dir or None)
        except OSError as exc:
            raise TLSConfigError(
                f"Failed to configure CA certificate(s) file/directory: {_load_error(exc)}"
            ) from None
    if config.tls_ciphers:
        try:
            context.set_ciphers(config.tls_ciphers)
        except ssl.SSLError:
            raise TLSConfigError(f"Failed to configure ciphers: {config['tls-ciphers']}") from None
    suites = config.tls_ciphersuites
    # Python's ssl cannot choose TLS 1.3 suites: the value is checked as OpenSSL checks it
    # (at least one known name), and TLS 1.3 keeps OpenSSL's default suites.
    if suites and not CIPHERSUITES.intersection(suites.split(":")):
        raise TLSConfigError(f"Failed to configure ciphersuites: {suites}")
    return context


def _protocols(text: str) -> list[ssl.TLSVersion]:
    """``tls-protocols``: space-separated names, any case; empty means TLSv1.2 and TLSv1.3.
    Python sets a range, so a gap in the list (TLSv1 and TLSv1.2) enables what lies between."""
    names = text.lower().split() or DEFAULT_PROTOCOLS
    if any(name not in PROTOCOLS for name in names):
        raise TLSConfigError(
            "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1',"
            " 'TLSv1.2' and 'TLSv1.3'."
        )
    return [PROTOCOLS[name] for name in names]


def _load_certificate_and_key(context: ssl.SSLContext, cert: str, key: str, password: str) -> None:
    # Python loads both in one call; a certificate file that holds no certificate is what
    # Redis reports as the certificate's failure, anything after it as the key's.
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cert)
    except OSError as exc:
        raise TLSConfigError(f"Failed to load certificate: {cert}: {_load_error(exc)}") from None
    try:
        # An empty password, never None: None would make OpenSSL prompt on the terminal for
        # an encrypted key, where Redis fails.
        context.load_cert_chain(cert, key, password)
    except OSError as exc:
        raise TLSConfigError(f"Failed to load private key: {key}: {_load_error(exc)}") from None


def _load_error(exc: OSError) -> str:
    """OpenSSL's error string for a failed load, as Redis logs it (a file that cannot be read
    is OpenSSL's "system library" error)."""
    if isinstance(exc, ssl.SSLError):
        return describe(exc)
    return f"error:{0x80000000 | (exc.errno or 0):08X}:system library::{exc.strerror}"


# OpenSSL's names for its libraries, as ERR_error_string prints them.
_LIBRARY_NAMES = {
    "SSL": "SSL routines",
    "PEM": "PEM routines",
    "X509": "x509 certificate routines",
    "X509V3": "X509 V3 routines",
    "ASN1": "asn1 encoding routines",
    "EVP": "digital envelope routines",
    "PROV": "Provider routines",
    "OSSL_DECODER": "DECODER routines",
    "BIO": "BIO routines",
    "RSA": "rsa routines",
    "EC": "elliptic curve routines",
}
_LIBRARY_CODES = {name: code for code, name in getattr(ssl._ssl, "lib_codes_to_names", {}).items()}
_REASON_CODES = getattr(ssl._ssl, "err_names_to_codes", {})
_MESSAGE = re.compile(r"\] (.*?)(?: \(_ssl\.c:\d+\))?$")


def describe(exc: BaseException | None) -> str:
    """What went wrong with TLS, worded as Redis logs it: OpenSSL's ``error:CODE:library::
    reason`` for an OpenSSL error (from the names Python's ssl keeps), the system's text for
    a socket error."""
    if isinstance(exc, ssl.SSLError) and exc.library:
        library = _LIBRARY_NAMES.get(exc.library, exc.library)
        if exc.reason:
            reason = exc.reason.lower().replace("_", " ")
            code = _REASON_CODES.get(exc.reason, (0, 0))[1]
        else:
            match = _MESSAGE.search(str(exc))
            reason = match[1] if match else str(exc)
            code = exc.args[0] if isinstance(exc.args[0], int) else 0
        packed = _LIBRARY_CODES.get(exc.library, 0) << 23 | code
        return f"error:{packed:08X}:{library}::{reason}"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
