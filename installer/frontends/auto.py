"""`keel-installer auto`: the unattended install the boot menu's automated entry starts.

Bring up the fetch network the kernel command line asks for (keel.ip=, keel.vlan=, keel.bond=), fetch the answer
(kernel-command-line URL, the medium, a PROXMOX-AIS partition, or a URL from DHCP or DNS), validate it against this
machine's hardware and plan the storage before anything is written, install, then reboot or power off after a
countdown. On failure: the error, then exit non-zero (the live environment opens a debug shell), or a reboot
when the answer says reboot-on-error = true.

When the answer server names a report URL (a keel-server), the install's events go there too, from the moment the
answer arrived: an answer this machine refuses is reported as an error, and the last events are flushed (for at
most REPORT_FLUSH seconds) before the reboot.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from installer import __version__
from installer.answer_sources import AnswerSourceError
from installer.answer_sources.fetch import Answer, Places, fetch
from installer.answer_sources.fetch_network import bring_up
from installer.answer_sources.sysinfo import system_info
from installer.core.cmdline import KernelParamError, KernelParams, read_fetch_network, read_kernel_params
from installer.core.config import InstallConfig
from installer.core.events import ConsoleSink, EventBus, Sink
from installer.core.hardware import HardwareProfile
from installer.core.live import LIVE_INFO_PATH, LiveInfoError
from installer.core.redact import redact_url
from installer.engine.engine import register_secrets
from installer.engine.install import NOTHING_WRITTEN, InstallOutcome, InstallSettings, load_live, start_install
from installer.frontends.setup import SetupError, load_hardware
from installer.runner import Runner

if TYPE_CHECKING:          # requests costs seconds to import under emulation: only once an answer names a report URL
    from installer.answer_sources.http import ReportTarget
    from installer.answer_sources.report import EventReporter

REBOOT_COUNTDOWN = 5
ERROR_REBOOT_DELAY = 30
REPORT_FLUSH = 15.0         # seconds the last events may take to reach the answer server before the reboot

EXAMPLE = """\
where the answer comes from, in this order:
  keel.answer=<url> [keel.fingerprint=<sha256>]   on the kernel command line: the only source when given
  /keel/auto-installer-mode.toml                  the prepared ISO's mode: iso, partition, or http with a URL
  /keel/answer.toml                               on the medium
  a partition labelled PROXMOX-AIS                (or the label the mode file names)
  DHCP option 250 (URL), 251 (fingerprint)        http mode without a URL, or no mode file and nothing above
  DNS TXT proxmox-auto-installer.<search domain>  and proxmox-auto-installer-cert-fingerprint.<search domain>
  A fingerprint from the ISO (or keel.fingerprint=) wins over one from DHCP or DNS.

the fetch network (kernel parameters; dracut's syntax with Keel's prefix), brought up before the fetch:
  keel.ip=<address>:[<peer>]:[<gateway>]:<netmask>:[<hostname>]:<interface>:none[:<dns1>[:<dns2>]]
      a static address; netmask as 255.255.255.0 or a prefix length; IPv6 in brackets; peer and hostname unused
  keel.ip=<interface>:dhcp          DHCP on a VLAN or bond (other NICs do DHCP anyway)
  keel.ifname=<name>:<MAC>          a name for the NIC with this MAC, to use in the other parameters
  keel.vlan=<name>:<parent>         a VLAN on a NIC or bond; the id ends the name: vlan20, eno1.20, vlan0020
  keel.bond=<name>:<nic>,<nic>[:<option>=<value>,...]
      options: mode=active-backup (default) or 802.3ad, miimon=<ms> (100), primary=<nic> (active-backup),
      lacp_rate=slow|fast and xmit_hash_policy=layer2|layer2+3|layer3+4|encap2+3|encap3+4 (802.3ad)
  A bond or VLAN without a keel.ip= gets DHCP. The parameters stay out of the installed system.

examples:
  keel-installer auto                      # as the boot menu runs it
  keel-installer auto --answer answer.toml --hardware server.json --dry-run
  keel.mode=auto keel.ifname=lan0:3c:ec:ef:12:34:56 keel.ip=192.0.2.10::192.0.2.1:24::lan0:none:192.0.2.53
      keel.answer=https://answers.example/answer      (static address on the NIC with that MAC)
  keel.mode=auto keel.bond=bond0:eno1,eno2:mode=802.3ad,lacp_rate=fast keel.vlan=vlan20:bond0
      keel.ip=[2001:db8:20::10]::[2001:db8:20::1]:64::vlan20:none:[2001:db8:20::53]   (LACP bond, VLAN 20)
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "auto", help="unattended install from an answer file",
        description="Install without questions: the answer comes from keel.answer=<url> on the kernel command "
                    "line (HTTPS, pinned with keel.fingerprint=), from the medium, from a partition labelled "
                    "PROXMOX-AIS, or from a URL that DHCP (option 250) or DNS (TXT) names. A static address, VLAN "
                    "or bond for the fetch comes from keel.ip=, keel.vlan=, keel.bond=. Everything is checked "
                    "against this machine before any disk is written.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--answer", type=Path, help="use this answer file instead of looking for one")
    p.add_argument("--hardware", type=Path, help="HardwareProfile JSON instead of probing (with --dry-run)")
    p.add_argument("--dry-run", action="store_true", help="validate and show the install without writing disks")
    p.add_argument("--no-reboot", action="store_true", help="do not reboot or power off at the end")
    p.add_argument("--live", type=Path, default=LIVE_INFO_PATH, help=f"live-medium info (default {LIVE_INFO_PATH})")
    p.add_argument("--cmdline", type=Path, default=Path("/proc/cmdline"), help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def say(text: str = "") -> None:
    print(text, flush=True)


@dataclass
class Setup:
    """What happens before the engine starts, as far as it got: a failure is reported with what is known."""

    runner: Runner                                   # its redactor holds every secret met so far
    hardware: HardwareProfile | None = None
    answer: Answer | None = None
    reporter: EventReporter | None = None            # when the answer server asked for the install's events
    # every secret of the answer (the fetch's tokens, and its passwords, keyrings and [provision]'s cluster secret)
    secrets: tuple[str, ...] = ()
    config: InstallConfig | None = None


def prepare(args: argparse.Namespace, params: KernelParams, setup: Setup) -> tuple[InstallConfig, HardwareProfile]:
    """Everything that happens before the engine starts: hardware, the answer, the config it resolves to."""
    import answerfile
    from answerfile.errors import AnswerError
    from answerfile.redaction import secret_values

    try:
        live = load_live(args.live, dry_run=args.dry_run)
    except LiveInfoError as err:
        raise SetupError(str(err)) from err
    hardware = setup.hardware = load_hardware(args.hardware)
    if args.answer:
        answer = Answer(args.answer.read_text(), str(args.answer))
    else:
        network = read_fetch_network(args.cmdline)
        if not network.empty:
            bring_up(network, hardware.nics, setup.runner, log=say)
        answer = fetch(params, setup.runner, lambda: system_info(hardware, version=live.version or __version__),
                       Places(), warn=lambda t: say(f"WARNING: {t}"), log=say)
    setup.answer = answer
    setup.secrets = (*answer.secrets, *secret_values(answer.text))
    for secret in setup.secrets:
        setup.runner.add_secret(secret)
    say(f"Answer: {answer.source}")
    if answer.report is not None:
        setup.reporter = start_reporting(answer.report, setup.runner)
    try:
        resolution = answerfile.resolve_text(answer.text, hardware, unattended=True)
    except AnswerError as err:
        raise SetupError(f"the answer from {answer.source} cannot be used on this machine:\n" +
                         "\n".join(f"  {p}" for p in err.problems)) from err
    for warning in resolution.warnings:
        say(f"WARNING: {warning}")
    setup.config = resolution.config
    register_secrets(setup.runner, resolution.config)
    return resolution.config, hardware


def start_reporting(target: ReportTarget, runner: Runner) -> EventReporter:
    """The sink that sends this install's events to the answer server, redacting with `runner`'s secrets."""
    from installer.answer_sources.report import EventReporter

    say(f"Reporting this install's events to {redact_url(target.url)}")
    return EventReporter(target, warn=lambda t: say(f"WARNING: {t}"), redact=runner.redact)


def refuse(setup: Setup, reason: str) -> int:
    """A failure before the engine started: said on the console, and reported when the server asked for it."""
    say(f"ERROR: {reason}")
    say(NOTHING_WRITTEN)
    if setup.reporter is not None:
        bus = EventBus([setup.reporter], redact=setup.runner.redact)
        first, _, rest = reason.partition("\n")
        bus.error(first, rest)
        bus.finished(False, NOTHING_WRITTEN)
        setup.reporter.close(REPORT_FLUSH)
    return 2


def run(args: argparse.Namespace) -> int:
    params = read_kernel_params(args.cmdline)
    say(f"Keel {__version__}: automated installation")
    setup = Setup(Runner())
    try:
        config, hardware = prepare(args, params, setup)
    except (SetupError, AnswerSourceError, KernelParamError) as err:
        return refuse(setup, str(err))
    except OSError as err:
        return refuse(setup, f"{err.filename or ''}: {err.strerror}")
    # the install's own runner hides every secret of the answer too, not only the fetch's tokens: a message that
    # quotes one never reaches the log or an event
    settings = InstallSettings(live_path=args.live, cmdline=args.cmdline, secrets=setup.secrets,
                               report=setup.answer.report if setup.answer else None)
    reporter = setup.reporter
    sinks: list[Sink] = [ConsoleSink(sys.stdout), *([reporter] if reporter else [])]
    reports_end = float("inf")                      # REPORT_FLUSH after the install, for flush and close together
    try:
        outcome = start_install(config, hardware, sinks, dry_run=args.dry_run, settings=settings)
        reports_end = time.monotonic() + REPORT_FLUSH
        if reporter is not None:            # the finished event before the webhook, which marks the machine installed
            reporter.flush(REPORT_FLUSH)
        if outcome.ok and args.dry_run:
            say(f"Dry run: {len(outcome.commands)} commands would have run; no disk was written.")
            if config.webhook:
                say(f"Dry run: the webhook would report to {redact_url(config.webhook.url)}")
        elif outcome.ok:
            send_webhook(config, outcome)
    finally:
        if reporter is not None:
            reporter.close(min(REPORT_FLUSH, max(0.0, reports_end - time.monotonic())))
    if not outcome.started:
        return 2
    if not outcome.ok:
        return after_failure(config, outcome, args)
    return after_success(config, args)


def send_webhook(config: InstallConfig, outcome: InstallOutcome) -> None:
    if not config.webhook:
        return
    from installer.engine.webhook import post_webhook

    if outcome.report is None:
        say("WARNING: webhook: no data was gathered; not sent")
        return
    try:
        post_webhook(config.webhook.url, outcome.report, config.webhook.cert_fingerprint)
        say(f"Webhook: reported to {redact_url(config.webhook.url)}")
    except AnswerSourceError as err:
        say(f"WARNING: webhook failed (the installation itself succeeded): {err}")


def power(action: str, runner_factory: Callable[[], Runner] = Runner) -> None:
    runner_factory().run(["systemctl", action], timeout=60, check=False)


def after_success(config: InstallConfig, args: argparse.Namespace) -> int:
    if args.dry_run or args.no_reboot or not config.autoreboot:
        say("Reboot when ready (the installer does not reboot by itself here).")
        return 0
    action = "poweroff" if config.reboot_mode == "power-off" else "reboot"
    verb = "Powering off" if action == "poweroff" else "Rebooting"
    for left in range(REBOOT_COUNTDOWN, 0, -1):
        say(f"{verb} in {left} s ...")
        time.sleep(1)
    say(f"{verb} now - remove the installation medium.")
    power(action)
    return 0


def after_failure(config: InstallConfig, outcome: InstallOutcome, args: argparse.Namespace) -> int:
    if outcome.ctx is not None:
        say(f"The install log is {outcome.ctx.log_path} (tty2 shows it live).")
    if config.reboot_on_error and not args.dry_run:
        say(f"reboot-on-error is set: rebooting in {ERROR_REBOOT_DELAY} s.")
        time.sleep(ERROR_REBOOT_DELAY)
        power("reboot")
    return 1
