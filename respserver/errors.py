"""Error replies with Redis's exact wording: the one place wire text for errors is written."""

from collections.abc import Sequence


class CommandError(Exception):
    """An error reply; ``message`` is the text after '-', its code (ERR, WRONGTYPE...) included."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- any command -------------------------------------------------------------------------------

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
NO_SUCH_KEY = "ERR no such key"
DB_INDEX_OUT_OF_RANGE = "ERR DB index is out of range"
INCR_OVERFLOW = "ERR increment or decrement would overflow"
INCR_NAN_OR_INF = "ERR increment would produce NaN or Infinity"
INTERNAL = "ERR internal error; see the server log"

# --- the dispatcher's gates, in processCommand's order --------------------------------------------

NOAUTH = "NOAUTH Authentication required."
# A command flagged no_multi (SAVE, SHUTDOWN...) sent inside MULTI: refused, never queued.
NOT_IN_MULTI = "ERR Command not allowed inside a transaction"
NOPERM_COMMAND = "NOPERM this user has no permissions to run the '{}' command"
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = (
    "NOPERM this user has no permissions to access one of the channels used as arguments"
)
OOM = "OOM command not allowed when used memory > 'maxmemory'."
# Writes (and PING) while snapshots fail, with save rules and stop-writes-on-bgsave-error yes.
BGSAVE_ERROR = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to"
    " disk. Commands that may modify the data set are disabled, because this instance is"
    " configured to report errors during writes if RDB snapshotting fails"
    " (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the"
    " RDB error."
)
LOADING = "LOADING Redis is loading the dataset in memory"

# --- transactions ---------------------------------------------------------------------------------

MULTI_NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_INSIDE_MULTI = "ERR WATCH inside MULTI is not allowed"
EXEC_ABORTED = "EXECABORT Transaction discarded because of previous errors."
# execCommand's reasons for a queued command the user's rules no longer allow.
ACL_CHANGED_IN_MULTI = (
    "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC"
    " call. This command is no longer allowed for the following reason: {}"
)
NO_LONGER_ALLOWED = {
    "command": "no permission to execute the command or subcommand",
    "key": "no permission to touch the specified keys",
}


def exec_aborted_because(error: CommandError) -> CommandError:
    """Redis's execCommandAbort: EXEC refused outright, naming the reason."""
    reason = error.message.removeprefix("ERR ")
    return CommandError(f"EXECABORT Transaction discarded because of: {reason}")


# --- keys, strings, hashes ------------------------------------------------------------------------

SAME_OBJECT = "ERR source and destination objects are the same"
INVALID_CURSOR = "ERR invalid cursor"
NX_AND_XX_GT_LT = "ERR NX and XX, GT or LT options at the same time are not compatible"
GT_AND_LT = "ERR GT and LT options at the same time are not compatible"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
DECREMENT_OVERFLOW = "ERR decrement would overflow"
HASH_VALUE_NOT_INTEGER = "ERR hash value is not an integer"
HASH_VALUE_NOT_FLOAT = "ERR hash value is not a float"
NAN_OR_INFINITY = "ERR value is NaN or Infinity"
OUT_OF_RANGE = "ERR value is out of range"
# OBJECT FREQ and OBJECT IDLETIME under the other kind of maxmemory-policy.
LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that"
    " when switching between policies at runtime LRU and LFU data will take some time to adjust."
)
LFU_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when"
    " switching between policies at runtime LRU and LFU data will take some time to adjust."
)


# --- lists ----------------------------------------------------------------------------------------

MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
INDEX_OUT_OF_RANGE = "ERR index out of range"
RANK_ZERO = (
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use"
    " negative to start from the end of the list"
)
COUNT_NEGATIVE = "ERR COUNT can't be negative"
MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
NUMKEYS_NOT_POSITIVE = "ERR numkeys should be greater than 0"
COUNT_NOT_POSITIVE = "ERR count should be greater than 0"

# --- DUMP and RESTORE -----------------------------------------------------------------------------

BUSYKEY = "BUSYKEY Target key name already exists."
TTL_NEGATIVE = "ERR Invalid TTL value, must be >= 0"
IDLETIME_NEGATIVE = "ERR Invalid IDLETIME value, must be >= 0"
FREQ_OUT_OF_RANGE = "ERR Invalid FREQ value, must be >= 0 and <= 255"
PAYLOAD_DAMAGED = "ERR DUMP payload version or checksum are wrong"
BAD_DATA_FORMAT = "ERR Bad data format"

# --- SORT -----------------------------------------------------------------------------------------

SCORES_NOT_DOUBLES = "ERR One or more scores can't be converted into double"
SORT_DENIED = "ERR {} option of SORT denied due to insufficient ACL permissions."

# --- blocking commands ----------------------------------------------------------------------------

TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
UNBLOCK_REASON = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"


# --- sets -----------------------------------------------------------------------------------------

MORE_KEYS_THAN_ARGS = "ERR Number of keys can't be greater than number of args"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"


# --- sorted sets ----------------------------------------------------------------------------------

XX_AND_NX = "ERR XX and NX options at the same time are not compatible"
GT_LT_AND_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
INCR_ONE_PAIR = "ERR INCR option supports a single increment-element pair"
SCORE_NAN = "ERR resulting score is not a number (NaN)"
RANGE_NOT_FLOAT = "ERR min or max is not a float"
RANGE_NOT_LEX = "ERR min or max not valid string range item"
LIMIT_WITHOUT_BY = (
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
)
WITHSCORES_WITH_BYLEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
WEIGHT_NOT_FLOAT = "ERR weight value is not a float"


def no_input_key(command: str) -> CommandError:
    """ZUNIONSTORE and the like with numkeys below 1 (``command`` lowercase)."""
    return CommandError(f"ERR at least 1 input key is needed for '{command}' command")


def out_of_range_between(low: int, high: int) -> str:
    return f"ERR value is out of range, value must between {low} and {high}"


def unsupported_option(shown: str) -> CommandError:
    return CommandError(f"ERR Unsupported option {shown}")


def invalid_expire_time(command: str) -> CommandError:
    return CommandError(f"ERR invalid expire time in '{command}' command")


# --- geo ----------------------------------------------------------------------------------------

UNSUPPORTED_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
NEED_NUMERIC_RADIUS = "ERR need numeric radius"
NEED_NUMERIC_WIDTH = "ERR need numeric width"
NEED_NUMERIC_HEIGHT = "ERR need numeric height"
RADIUS_NEGATIVE = "ERR radius cannot be negative"
BOX_NEGATIVE = "ERR height or width cannot be negative"
GEO_COUNT_NOT_POSITIVE = "ERR COUNT must be > 0"
ANY_WITHOUT_COUNT = "ERR the ANY argument requires COUNT argument"
MEMBER_NOT_DECODED = "ERR could not decode requested zset member"
GEOSEARCH_NEEDS_FROM = "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for {}"
GEOSEARCH_NEEDS_BY = "ERR exactly one of BYRADIUS and BYBOX can be specified for {}"


def invalid_longitude_latitude(longitude: float, latitude: float) -> CommandError:
    """A point outside what a geohash indexes, printed with C's %f."""
    return CommandError(f"ERR invalid longitude,latitude pair {longitude:f},{latitude:f}")


def store_with_options(what: str) -> CommandError:
    """GEOSEARCHSTORE, or GEORADIUS's STORE, asked to reply with WITH* fields it cannot store."""
    return CommandError(
        f"ERR {what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
    )


class QuotesArgv(CommandError):
    """An error whose text quotes the command line as the client typed it, which a handler
    does not see: the dispatcher replies with ``about(argv)`` instead."""

    def about(self, argv: Sequence[bytes]) -> CommandError:
        raise NotImplementedError


class NamesCommand(QuotesArgv):
    """An error naming the command as the client spelled it (Redis's argv[0]: the GEOSEARCH
    family's "... can be specified for GeoSearch"), in ``template``'s ``{}``."""

    def __init__(self, template: str) -> None:
        super().__init__(template)
        self.template = template

    def about(self, argv: Sequence[bytes]) -> CommandError:
        return CommandError(self.template.format(c_string(argv[0], 1 << 30)))


# --- streams ----------------------------------------------------------------------------------

INVALID_STREAM_ID = "ERR Invalid stream ID specified as stream command argument"
INVALID_START_INTERVAL = "ERR invalid start ID for the interval"
INVALID_END_INTERVAL = "ERR invalid end ID for the interval"
XADD_ID_TOO_SMALL = (
    "ERR The ID specified in XADD is equal or smaller than the target stream top item"
)
XADD_ID_ZERO = "ERR The ID specified in XADD must be greater than 0-0"
XADD_ELEMENTS_TOO_LARGE = "ERR Elements are too large to be stored"
STREAM_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
TRIM_BOTH_STRATEGIES = (
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
)
TRIM_MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
TRIM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
TRIM_LIMIT_WITHOUT_STRATEGY = (
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
)
TRIM_LIMIT_WITHOUT_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option"
XTRIM_WITHOUT_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
XSETID_ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive"
XSETID_BELOW_MAX_DELETED = (
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
)
XSETID_BELOW_TOP = "ERR The ID specified in XSETID is smaller than the target stream top item"
XSETID_ENTRIES_ADDED_BELOW_LENGTH = (
    "ERR The entries_added specified in XSETID is smaller than the target stream length"
)
XREAD_UNBALANCED = (
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
)
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
XREAD_BLOCK_IN_SCRIPT = "ERR {} command is not allowed with BLOCK option from scripts"
XREAD_GROUP_OPTION = (
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
)
XREAD_NOACK_OPTION = (
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
)
XREAD_GREATER_ID = (
    "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group>"
    " <consumer> option."
)

# --- pub/sub -------------------------------------------------------------------------------------


def subscribe_denied(command: str) -> CommandError:
    """(P|S)SUBSCRIBE from a client that expects one reply per command (inside EXEC)."""
    return CommandError(f"ERR {command} isn't allowed for a DENY BLOCKING client")


# --- MONITOR -------------------------------------------------------------------------------------

MONITOR_KEYSPACE = "ERR Replica can't interact with the keyspace"  # a monitor is a replica to Redis
MONITOR_DENIED = "ERR MONITOR isn't allowed for DENY BLOCKING client"


def subscriber_context(command: str) -> CommandError:
    """A RESP2 client with subscriptions sent a command it may not send in that state."""
    return CommandError(
        f"ERR Can't execute '{command}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT"
        " / RESET are allowed in this context"
    )


# --- stream consumer groups -----------------------------------------------------------------------

XGROUP_NEEDS_KEY = (
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to"
    " use the MKSTREAM option to create an empty stream automatically."
)
BUSYGROUP = "BUSYGROUP Consumer Group name already exists"
ENTRIES_READ_NEGATIVE = "ERR value for ENTRIESREAD must be positive or -1"
XREADGROUP_NEEDS_GROUP = "ERR Missing GROUP option for XREADGROUP"
XREADGROUP_DOLLAR = (
    "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of"
    " this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID"
    " would just return an empty result set."
)
NOGROUP_BLOCKED = "NOGROUP the consumer group this client was blocked on no longer exists"
STREAM_KEY_DELETED = "UNBLOCKED the stream key no longer exists"
AUTOCLAIM_COUNT = "ERR COUNT must be > 0"


def no_group(key: bytes, group: bytes, suffix: str = "") -> CommandError:
    """NOGROUP for a missing key or group (XPENDING, XCLAIM, XAUTOCLAIM; XREADGROUP's with
    its ``suffix``)."""
    return CommandError(
        f"NOGROUP No such key '{c_string(key, 1 << 30)}' or consumer group"
        f" '{c_string(group, 1 << 30)}'{suffix}"
    )


def no_such_group(group: bytes, key: bytes) -> CommandError:
    """NOGROUP for a group the stream at ``key`` lacks (XGROUP, XINFO CONSUMERS)."""
    return CommandError(
        f"NOGROUP No such consumer group '{c_string(group, 1 << 30)}' for key name"
        f" '{c_string(key, 1 << 30)}'"
    )


def invalid_claim_argument(what: str, command: str) -> str:
    """XCLAIM/XAUTOCLAIM's text for an option value that is no integer."""
    return f"ERR Invalid {what} argument for {command}"


def unrecognized_claim_option(option: bytes) -> CommandError:
    return CommandError(f"ERR Unrecognized XCLAIM option '{c_string(option, 1 << 30)}'")


# --- bitmaps --------------------------------------------------------------------------------------

BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
BIT_ARGUMENT = "ERR The bit argument must be 1 or 0."
BITOP_NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = (
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but"
    " i64 is."
)
BITFIELD_OVERFLOW_TYPE = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_GET_ONLY = "ERR BITFIELD_RO only supports the GET subcommand"

# --- LCS ------------------------------------------------------------------------------------------

LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_LEN_AND_IDX = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_MUCH_MEMORY = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"

# --- HyperLogLog ----------------------------------------------------------------------------------

HLL_WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value."  # a string, but no HLL
HLL_CORRUPTED = "INVALIDOBJ Corrupted HLL object detected"  # a sparse code of the wrong span
HLL_NO_KEY = "ERR The specified key does not exist"  # PFDEBUG's
HLL_NOT_SPARSE = "ERR HLL encoding is not sparse"  # PFDEBUG DECODE of a dense one


def unknown_pfdebug(subcommand: bytes) -> CommandError:
    return CommandError(f"ERR Unknown PFDEBUG subcommand '{c_string(subcommand, 1 << 30)}'")


def hll_test_failed(detail: str) -> CommandError:
    """PFSELFTEST's report of what went wrong."""
    return CommandError(f"TESTFAILED {detail}")


# --- connections and clients ----------------------------------------------------------------------

WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NO_PASSWORD_SET = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO"
    " AUTH <user> <pass> option can be used to authenticate the client and select the RESP"
    " protocol version at the same time"
)
PROTOCOL_VERSION_NOT_INTEGER = "ERR Protocol version is not an integer or out of range"
NOPROTO = "NOPROTO unsupported protocol version"
BAD_CLIENT_ID = "ERR client-id should be greater than 0"
INVALID_CLIENT_ID = "ERR Invalid client ID"
NO_SUCH_CLIENT = "ERR No such client"
CLIENT_NAME_CHARACTERS = "ERR Client names cannot contain spaces, newlines or special characters."


MAX_CLIENTS = "ERR max number of clients reached"
# Redis 7.0's text, word for word (its "Setup a an" included): clients match on it.
DENIED = (
    "DENIED Redis is running in protected mode because protected mode is enabled and no"
    " password is set for the default user. In this mode connections are only accepted from"
    " the loopback interface. If you want to connect from external computers to Redis you may"
    " adopt one of the following solutions: 1) Just disable protected mode sending the command"
    " 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from"
    " the same host the server is running, however MAKE SURE Redis is not publicly accessible"
    " from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2)"
    " Alternatively you can just disable the protected mode by editing the Redis configuration"
    " file, and setting the protected mode option to 'no', and then restarting the server. 3)"
    " If you started the server manually just for testing, restart it with the"
    " '--protected-mode no' option. 4) Setup a an authentication password for the default"
    " user. NOTE: You only need to do one of the above things in order for the server to start"
    " accepting connections from the outside."
)


def hello_syntax(option: str) -> CommandError:
    return CommandError(f"ERR Syntax error in HELLO option '{option}'")


def unrecognized_option(option: str) -> CommandError:
    return CommandError(f"ERR Unrecognized option '{option}'")


def attribute_characters(attribute: str) -> CommandError:
    return CommandError(f"ERR {attribute} cannot contain spaces, newlines or special characters.")


def no_such_user(name: str) -> CommandError:
    return CommandError(f"ERR No such user '{name}'")


def unknown_client_type(name: str) -> CommandError:
    return CommandError(f"ERR Unknown client type '{name}'")


# --- server, COMMAND, CONFIG ----------------------------------------------------------------------

INVALID_COMMAND = "ERR Invalid command specified"
NO_KEY_ARGUMENTS = "ERR The command has no key arguments"
INVALID_ARGUMENT_COUNT = "ERR Invalid number of arguments specified for command"
INVALID_ARGUMENTS = "ERR Invalid arguments specified for command"
NO_CONFIG_FILE = "ERR The server is running without a config file"
NO_SHUTDOWN = "ERR No shutdown in progress."


def invalid_db_index(which: str) -> str:
    return f"ERR invalid {which} DB index"


def config_set_unknown(name: str) -> CommandError:
    return CommandError(f"ERR Unknown option or number of arguments for CONFIG SET - '{name}'")


def config_set_failed(name: str, reason: str) -> str:
    return f"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}"


# --- ACL ------------------------------------------------------------------------------------------

NO_ACL_FILE = (
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify"
    " users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a"
    " Redis configuration file set) in order to store users in the Redis configuration."
)
USERNAME_CHARACTERS = "ERR Usernames can't contain spaces or null characters"
DEFAULT_USER_UNDELETABLE = "ERR The 'default' user cannot be removed"
ACL_SAVE_FAILED = (
    "ERR There was an error trying to save the ACLs. Please check the server logs for"
    " more information"
)


def unmatched_parenthesis(start: str) -> CommandError:
    return CommandError(f"ERR Unmatched parenthesis in acl selector starting at '{start}'.")


def acl_rule(reason: object) -> CommandError:
    """A rule ACL SETUSER or ACL LOAD refused, with security.acl's reason text."""
    return CommandError(f"ERR {reason}")


def unknown_category(category: str) -> CommandError:
    return CommandError(f"ERR Unknown category '{category}'")


def genpass_bits(most: int) -> CommandError:
    return CommandError(
        "ERR ACL GENPASS argument must be the number of bits for the output password,"
        f" a positive number up to {most}"
    )


def user_not_found(name: str) -> CommandError:
    return CommandError(f"ERR User '{name}' not found")


def command_not_found(name: str) -> CommandError:
    return CommandError(f"ERR Command '{name}' not found")


# --- persistence ----------------------------------------------------------------------------------

BGSAVE_IN_PROGRESS = "ERR Background save already in progress"
BGSAVE_CHILD_ACTIVE = (
    "ERR Another child process is active (AOF?): can't BGSAVE right now. Use"
    " BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible."
)
REWRITE_IN_PROGRESS = "ERR Background append only file rewriting already in progress"
SAVE_FAILED = "ERR"  # Redis's shared.err: SAVE failed, the log says why


def aof_write_error(reason: str) -> str:
    """Writes (and PING) while the AOF cannot be written, with the OS's reason."""
    return f"MISCONF Errors writing to the AOF file: {reason}"


# --- QUERY (respserver's own, in Redis's house style) ---------------------------------------------

BAD_SCORE = "ERR One or more scores can't be converted into double"  # SORT's wording


def where_operand_not_float(op: str) -> CommandError:
    return CommandError(f"ERR WHERE operand of '{op}' is not a valid float")


def unknown_where_operator(op: str) -> CommandError:
    return CommandError(f"ERR unknown operator '{op}' in WHERE")


# --- the protocol ---------------------------------------------------------------------------------


def protocol_error(detail: str) -> CommandError:
    """The reply to a frame Redis refuses; the connection is then closed."""
    return CommandError(f"ERR Protocol error: {detail}")


# --- formatted by name ----------------------------------------------------------------------------


def wrong_arity(fullname: str) -> CommandError:
    """The arity error; ``fullname`` is lowercase, ``parent|sub`` for subcommands."""
    return CommandError(f"ERR wrong number of arguments for '{fullname}' command")


def _c_bytes(data: bytes, limit: int) -> bytes:
    """What C's ``%.*s`` prints of ``data``: up to the first NUL byte, at most ``limit``."""
    return data.split(b"\0", 1)[0][:limit]


def c_string(data: bytes, limit: int = 128) -> str:
    """User input as Redis echoes it in errors (``%.128s``); bytes that are not UTF-8 go back
    out as they came."""
    return _c_bytes(data, limit).decode("utf-8", "surrogateescape")


def _quoted_preview(args: Sequence[bytes]) -> str:
    # Redis bounds user input echoed in errors to about 128 bytes.
    preview = b""
    for arg in args:
        if len(preview) >= 128:
            break
        preview += b"'" + _c_bytes(arg, 128 - len(preview)) + b"' "
    return preview.decode("utf-8", "surrogateescape")


def unknown_command(name: bytes, args: Sequence[bytes]) -> CommandError:
    return CommandError(
        f"ERR unknown command '{c_string(name)}', with args beginning with: {_quoted_preview(args)}"
    )


def is_unknown_command(error: CommandError) -> bool:
    """Whether ``error`` is unknown_command's (an AOF naming a command we lack stops its load)."""
    return error.message.startswith("ERR unknown command '")


def unknown_subcommand(sub: bytes, container: str) -> CommandError:
    return CommandError(f"ERR unknown subcommand '{c_string(sub)}'. Try {container.upper()} HELP.")


class SubcommandMisuse(QuotesArgv):
    """Redis's addReplySubcommandSyntaxError, naming the command and subcommand as typed."""

    def __init__(self) -> None:
        super().__init__("ERR unknown subcommand or wrong number of arguments")

    def about(self, argv: Sequence[bytes]) -> CommandError:
        command = c_string(argv[0], 1 << 30).upper()
        return CommandError(
            f"ERR unknown subcommand or wrong number of arguments for '{c_string(argv[1])}'."
            f" Try {command} HELP."
        )


# --- client-side caching (CLIENT TRACKING, CLIENT CACHING) ---------------------------------------

TRACKING_REDIRECT_TWICE = "ERR A client can only redirect to a single other client"
TRACKING_REDIRECT_MISSING = "ERR The client ID you want redirect to does not exist"
TRACKING_PREFIX_WITHOUT_BCAST = "ERR PREFIX option requires BCAST mode to be enabled"
_TRACKING_SWITCH = (
    "ERR You can't switch {} before disabling tracking for this client, and then "
    "re-enabling it with a different mode."
)
TRACKING_SWITCH_BCAST = _TRACKING_SWITCH.format("BCAST mode on/off")
TRACKING_SWITCH_OPTIN_OPTOUT = _TRACKING_SWITCH.format("OPTIN/OPTOUT mode")
TRACKING_OPTIONS_AND_BCAST = "ERR OPTIN and OPTOUT are not compatible with BCAST"
TRACKING_OPTIN_AND_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode"
CACHING_NOT_TRACKING = (
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
    "OPTOUT mode enabled"
)
CACHING_YES_NOT_OPTIN = (
    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
)
CACHING_NO_NOT_OPTOUT = (
    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
)


def prefixes_overlap(prefix: bytes, other: bytes, existing: bool) -> CommandError:
    """CLIENT TRACKING BCAST with prefixes that would invalidate the same key."""
    which = "an existing" if existing else "another provided"
    text = (
        f"ERR Prefix '{prefix.decode('utf-8', 'replace')}' overlaps with {which} prefix "
        f"'{other.decode('utf-8', 'replace')}'. Prefixes for a single client must not overlap."
    )
    return CommandError(text)


PAUSE_MODE = "ERR CLIENT PAUSE mode must be WRITE or ALL"


# --- live queries (QWATCH, respserver's own) ------------------------------------------------------

QWATCH_NO_WHERE = "ERR QWATCH needs at least one WHERE clause"
QWATCH_ONLY_FILTERS = "ERR QWATCH takes only MATCH and WHERE clauses"


def qwatch_unheard(channel: bytes) -> CommandError:
    """QWATCH on a channel no client subscribes to: its messages would reach no one, and a live
    query ends when its channel's last subscriber leaves."""
    name = channel.decode("utf-8", "replace")
    return CommandError(f"ERR no client subscribes to channel '{name}': SUBSCRIBE to it first")
