"""The database tables (SQLAlchemy 2), the same on SQLite and PostgreSQL; the migrations under migrations/ build
exactly these, and a test keeps the two equal. Times are UNIX epoch seconds (floats), portable across both."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


class Machine(Base):
    """A machine seen by the server: identified by its MACs, DMI serial and UUID."""

    __tablename__ = "machines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(255), default="")
    uuid: Mapped[str] = mapped_column(String(64), default="", index=True)
    sysinfo: Mapped[dict[str, Any]] = mapped_column(default=dict)        # the last POSTed system info, minus keel
    hardware: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)   # Keel's HardwareProfile, when sent
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")               # why it failed (or was not answered)
    log_tail: Mapped[str] = mapped_column(Text, default="")
    armed: Mapped[bool] = mapped_column(Boolean, default=True)          # may be given an install
    assigned_profile: Mapped[str | None] = mapped_column(String(100), nullable=True)
    profile: Mapped[str | None] = mapped_column(String(100), nullable=True)       # the profile that answered
    number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # its ordinal within `numbered_by`
    numbered_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    installs: Mapped[int] = mapped_column(Integer, default=0)           # answers sent
    ssh_host_keys: Mapped[dict[str, Any]] = mapped_column(default=dict)
    report: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)  # the post-installation webhook's body
    first_seen: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)

    macs: Mapped[list[MachineMac]] = relationship(back_populates="machine", cascade="all, delete-orphan",
                                                  order_by="MachineMac.position")
    transitions: Mapped[list[Transition]] = relationship(cascade="all, delete-orphan", order_by="Transition.id")


class MachineMac(Base):
    __tablename__ = "machine_macs"
    mac: Mapped[str] = mapped_column(String(17), primary_key=True)     # lower case aa:bb:cc:dd:ee:ff
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    machine: Mapped[Machine] = relationship(back_populates="macs")


class Transition(Base):
    __tablename__ = "transitions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(20))
    at: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text, default="")


class Install(Base):
    """One answer sent: the per-install token (hashed) the installer's reports authenticate with."""

    __tablename__ = "installs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    profile: Mapped[str] = mapped_column(String(100))
    answered_at: Mapped[float] = mapped_column(Float)


class Event(Base):
    """An installer event (or a first-boot report); `event_id` is the sender's, so a retried one is stored once."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("machine_id", "event_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"), index=True)
    install_id: Mapped[int | None] = mapped_column(ForeignKey("installs.id", ondelete="CASCADE"), nullable=True)
    event_id: Mapped[str] = mapped_column(String(32))
    type: Mapped[str] = mapped_column(String(20))
    time: Mapped[float] = mapped_column(Float)
    phase: Mapped[str] = mapped_column(String(200), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[float] = mapped_column(Float)


class Profile(Base):
    __tablename__ = "profiles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    template: Mapped[str] = mapped_column(Text)              # root-password already turned into its hash
    match: Mapped[dict[str, Any]] = mapped_column(default=dict)   # JSON pointer -> glob
    macs: Mapped[list[str]] = mapped_column(default=list)
    labels: Mapped[dict[str, Any]] = mapped_column(default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    pool: Mapped[str | None] = mapped_column(String(100), nullable=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[float] = mapped_column(Float)


class Pool(Base):
    __tablename__ = "pools"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway: Mapped[str] = mapped_column(String(64))
    dns: Mapped[str] = mapped_column(String(64))
    first: Mapped[str] = mapped_column(String(64))
    last: Mapped[str] = mapped_column(String(64))


class Lease(Base):
    """A machine's address in a pool: handed out once, the same on every request, released on `machine remove`."""

    __tablename__ = "leases"
    __table_args__ = (UniqueConstraint("pool_id", "address"), UniqueConstraint("pool_id", "machine_id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id", ondelete="CASCADE"))
    machine_id: Mapped[int] = mapped_column(ForeignKey("machines.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    """An admin token (the REST API) or an answer token (POST /answer): only its SHA-256 is kept."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), unique=True)     # the public part before ':'
    token_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))                      # "admin" | "answer"
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class AuditEntry(Base):
    """An admin change: who (the token id, or "local" for --data), what, on which object. Never a secret."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[float] = mapped_column(Float, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
