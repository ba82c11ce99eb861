from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SourceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SOURCE_STATE_UNKNOWN: _ClassVar[SourceState]
    SOURCE_STATE_CONNECTING: _ClassVar[SourceState]
    SOURCE_STATE_LIVE: _ClassVar[SourceState]
    SOURCE_STATE_SILENT: _ClassVar[SourceState]
    SOURCE_STATE_STALE: _ClassVar[SourceState]
    SOURCE_STATE_DISCONNECTED: _ClassVar[SourceState]
    SOURCE_STATE_DEGRADED: _ClassVar[SourceState]
SOURCE_STATE_UNKNOWN: SourceState
SOURCE_STATE_CONNECTING: SourceState
SOURCE_STATE_LIVE: SourceState
SOURCE_STATE_SILENT: SourceState
SOURCE_STATE_STALE: SourceState
SOURCE_STATE_DISCONNECTED: SourceState
SOURCE_STATE_DEGRADED: SourceState

class Gap(_message.Message):
    __slots__ = ("stream", "first_missing", "last_missing", "reason")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    FIRST_MISSING_FIELD_NUMBER: _ClassVar[int]
    LAST_MISSING_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    stream: str
    first_missing: int
    last_missing: int
    reason: str
    def __init__(self, stream: _Optional[str] = ..., first_missing: _Optional[int] = ..., last_missing: _Optional[int] = ..., reason: _Optional[str] = ...) -> None: ...

class Resync(_message.Message):
    __slots__ = ("stream", "reason", "old_sequence", "new_sequence")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    OLD_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NEW_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    stream: str
    reason: str
    old_sequence: int
    new_sequence: int
    def __init__(self, stream: _Optional[str] = ..., reason: _Optional[str] = ..., old_sequence: _Optional[int] = ..., new_sequence: _Optional[int] = ...) -> None: ...

class SourceStatus(_message.Message):
    __slots__ = ("stream", "state", "detail")
    STREAM_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    stream: str
    state: SourceState
    detail: str
    def __init__(self, stream: _Optional[str] = ..., state: _Optional[_Union[SourceState, str]] = ..., detail: _Optional[str] = ...) -> None: ...
