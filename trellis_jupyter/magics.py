"""``%%trellis`` (ask a question) and ``%trellis <command>`` (manage the connection and chats).

A thin surface: options are parsed in :mod:`.magic_args`, the kernel's state lives in
:mod:`.session`, the live output in :mod:`.display`. ``%load_ext trellis_jupyter`` calls
:func:`load_ipython_extension`.
"""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class, no_var_expand

from . import magic_data
from .config import MISSING_CREDENTIALS
from .display import AnswerInterrupted, LiveAnswer, is_rich, show_stream
from .errors import ConfigurationError, TrellisError
from .magic_args import ParserExit, help_text, parse_cell_options, parse_command, substitute
from .render import STOPPED, history_bundle
from .scrub import redact_url
from .session import Session, get_session

__all__ = ["TrellisMagics", "load_ipython_extension", "unload_ipython_extension"]


@magics_class
class TrellisMagics(Magics):
    """The ``%trellis`` / ``%%trellis`` magics, bound to the kernel's :class:`Session`."""

    def __init__(self, shell: Any, session: Session | None = None) -> None:
        super().__init__(shell)
        self.session = session if session is not None else get_session()
        self._started = False  # this cell's answer began showing (Ctrl-C then says it is partial)
        self._shown_stop = False  # the output already says the answer was stopped

    @property
    def _namespace(self) -> dict[str, Any]:
        assert self.shell is not None
        namespace: dict[str, Any] = self.shell.user_ns
        return namespace

    @no_var_expand  # {x} and $x in options stay as typed; {{name}} is ours
    @line_cell_magic
    def trellis(self, line: str, cell: str | None = None) -> Any:
        """Ask Trellis about your databases.

        %%trellis [-o NAME] [--df NAME] [--chart NAME] [--new] [--chat ID] [-q] [-n ROWS]
                  [--attach NAME,...] [--query ID_OR_TITLE -p NAME=VALUE ...] [--replay|--refresh] ...
        <question>

        %%trellis save TITLE
        <SQL with {{param}} placeholders>

        %trellis --query ID_OR_TITLE [-p NAME=VALUE ...]     (a saved query, shown by its title)

        %trellis connect|status|history|chats|use|new|rename|delete|feedback|edit|models|
                 integrations|widget|uploads|save|queries|replay|help ...

        Run ``%trellis help`` for every option and the ``%config Trellis`` settings.
        """
        self._started = self._shown_stop = False
        try:
            if cell is None and line.lstrip().startswith("--query"):
                return self._ask(line, "")  # %trellis --query ID -p ...: a saved query needs no text
            if cell is None:
                return self._command(line)
            return self._ask(line, cell)
        except ParserExit:
            return None
        except KeyboardInterrupt:
            # Ctrl-C / the stop button anywhere in the magic: one plain line, never a traceback
            # (the kernel's state is whole: heavy imports run where no interrupt lands).
            if not self._shown_stop:
                print(STOPPED if cell is not None and self._started else "Stopped.")
            return None

    # -- asking -------------------------------------------------------------------------------

    def _ask(self, line: str, cell: str) -> None:
        words = line.strip().split(maxsplit=1)
        if words and words[0] == "save":
            self._save_cell(words[1] if len(words) > 1 else "", cell)
            return
        args = parse_cell_options(line, self._namespace)
        question = substitute(cell, self._namespace).strip()
        if not question:
            if not args.query:
                raise UsageError("The cell has no question: write it on the lines below %%trellis.")
            question = args.query  # a saved query's run shows its title when the cell says nothing
        if args.new:
            self.session.new_chat()
        elif args.chat and args.chat != self.session.chat_id:
            self.session.use_chat(args.chat)
        parts = magic_data.attachments(args.attach_names, self._namespace)
        settings = self.session.settings
        cache, key = None, None
        if settings.replay or args.replay or args.refresh:
            cache, key = (
                self.session.answer_cache(),
                magic_data.replay_key(self.session, question, args, parts),
            )
            kept = None if args.refresh else cache.get(key)
            if kept is not None:
                self._replay(kept, args)
                return
        query_id = magic_data.saved_query_id(self.session, args.query) if args.query else None
        uploaded = self.session.conversation.upload(parts) if parts else []
        stream: Any = self.session.stream(
            question,
            integration=args.integration,
            model=args.model,
            upload_ids=[u.id for u in uploaded] or None,
            saved_query_id=query_id,
            parameters=args.parameters or None,
        )
        stream.answer.uploads = uploaded  # a widget opened later shows them on this question
        if cache is not None and key is not None:
            from .replay import Recorder

            recorder = Recorder(stream)
            answer = self._show(recorder, args)
            if answer.complete:
                cache.put(key, question, recorder.events)
            return
        self._show(stream, args)

    def _replay(self, kept: Any, args: argparse.Namespace) -> None:
        from .replay import Replay

        answer = self._show(Replay(kept.question, kept.events), args)
        state = self.session.state
        if state.chat_id is None and answer.chat_id is not None:
            state.chat_id = answer.chat_id  # a cell asked again later continues the same chat
        state.answers.append(answer)
        if not args.quiet:
            print(f"(replayed from {kept.when}: no request was sent; --refresh asks again)")

    def _edit(self, args: argparse.Namespace) -> None:
        conversation = self.session.conversation
        if not conversation.answers:
            raise UsageError("There is no question to edit yet: ask one with %%trellis first.")
        question = " ".join(args.question).strip()
        if not question:
            question = conversation.answers[-1].question or ""
        if not question:
            raise UsageError(
                "The last question is not known here: give the new question after %trellis edit."
            )
        self._show(self.session.edit(question, integration=args.integration, model=args.model), args)

    def _show(self, stream: Any, args: argparse.Namespace) -> Any:
        settings = self.session.settings
        live = LiveAnswer(
            self.shell,
            rows=args.rows if args.rows is not None else settings.display_rows,
            interval=settings.coalesce_interval,
            quiet=args.quiet,
        )
        self._started = True
        try:
            answer = show_stream(stream, live, name=args.output or "_trellis")
        except AnswerInterrupted as interrupted:
            # The text output already ends with the STOPPED line (rich front ends and terminals).
            self._shown_stop = interrupted.shown and not args.quiet
            if interrupted.answer is not None:
                self._bind(interrupted.answer, args)
            raise
        except TrellisError as error:
            if error.answer is not None:
                self._bind(error.answer, args)
            raise
        self._bind(answer, args)
        return answer

    def _bind(self, answer: Any, args: argparse.Namespace) -> None:
        namespace = self._namespace
        self.session.last_answer = answer
        namespace["_trellis"] = answer
        if args.output:
            namespace[args.output] = answer
        if args.df:
            namespace[args.df] = answer.df
            if namespace[args.df] is None and not args.quiet:
                print(f"This answer has no table: {args.df} is None.")
        if answer.charts and self.session.settings.offline_charts:
            # If Altair is loaded, let the user's own charts render offline too (charts.py); this
            # never imports it (the display hook below switches on the first Altair chart shown).
            from .charts import enable_offline_charts

            enable_offline_charts()
        if args.chart:
            namespace[args.chart] = answer.chart
            if namespace[args.chart] is None and not args.quiet:
                print(f"This answer has no chart: {args.chart} is None.")

    # -- commands -----------------------------------------------------------------------------

    def _command(self, line: str) -> Any:
        args = parse_command(line, self._namespace)
        if args is None:
            print(help_text())
            return None
        handler = getattr(self, f"_cmd_{args.command}")
        return handler(args)

    def _cmd_help(self, args: argparse.Namespace) -> None:
        print(help_text())

    def _cmd_edit(self, args: argparse.Namespace) -> None:
        self._edit(args)

    def _cmd_connect(self, args: argparse.Namespace) -> None:
        if args.db and not args.local:
            raise UsageError("--db only goes with --local: %trellis connect --local --db PATH.")
        if args.local and args.base_url:
            raise UsageError("--local and --base-url contradict each other: give one of them.")
        options = {"integration": args.integration, "model": args.model, "transport": args.transport}
        before = redact_url(self.session.base_url) if self.session.connected else None
        try:
            if args.local:
                server = self.session.connect_local(args.db, **options)
                where = f"the local server at {server.base_url}"
            else:
                self.session.connect(args.base_url, **options)
                where = str(self.session.base_url)
        except TrellisError as error:
            # One sentence: what failed, why, and where the kernel stays.
            stays = f"stays connected to {before}" if before else "is not connected"
            reason = str(error)
            if reason == MISSING_CREDENTIALS:  # the Python API's wording names api_key=; say the magic's
                reason = (
                    "no credentials: set TRELLIS_API_KEY and TRELLIS_EMAIL (or TRELLIS_TOKEN) where the "
                    "kernel starts, or use %trellis connect --local"
                )
            raise ConnectFailedError(f"%trellis connect failed, so the kernel {stays}: {reason}") from None
        integration = self.session.integration_id()
        name = self.session.integration_name(integration) if integration else "the server's default"
        print(f"Connected to {where} (integration: {name}). The next question starts a new chat.")

    def _cmd_status(self, args: argparse.Namespace) -> None:
        session, settings = self.session, self.session.settings
        try:
            session.client  # noqa: B018 - creating the client checks the credentials
        except TrellisError as error:
            text = str(error)
            print(f"Server:      {text if text.startswith('Not connected') else f'not connected: {text}'}")
            return
        local = " (local server)" if session.local_server is not None else ""
        print(f"Server:      {redact_url(session.base_url)}{local}")
        try:
            integration = session.integration_id()
            label = (
                f"{session.integration_name(integration)} ({integration})"
                if integration
                else "server default"
            )
        except TrellisError as error:
            label = f"unknown: {error}"
        print(f"Integration: {label}")
        chat_id = session.chat_id
        if chat_id:
            count = len(session.conversation.answers)
            print(f"Chat:        {chat_id} ({count} answer{'' if count == 1 else 's'})")
        else:
            print("Chat:        none yet (the next question starts one)")
        print(f"Model:       {settings.model or 'server default'}")
        print(f"Transport:   {settings.transport}")

    def _cmd_history(self, args: argparse.Namespace) -> None:
        conversation = self.session.conversation
        if conversation.chat_id is None:
            print("No chat yet: the next question starts one.")
            return
        pairs = conversation.history()
        if not pairs:
            print(f"Chat {conversation.chat_id} has no answers yet.")
            return
        bundle = history_bundle(pairs)
        shell = self.shell
        if shell is not None and is_rich(shell):
            shell.display_pub.publish(bundle)
        else:  # terminal IPython: the plain text, printed once
            print(bundle["text/plain"])

    def _cmd_chats(self, args: argparse.Namespace) -> None:
        page = self.session.client.chats.list(page=max(args.page, 1))
        if not page.chats:
            print("No chats yet." if page.page == 1 else "No chats on this page.")
            return
        current = self.session.chat_id
        for chat in page.chats:
            mark = "*" if chat.id == current else " "
            title = chat.title or chat.preview or ""
            print(f"{mark} {chat.id}  {(chat.timestamp or '')[:19]:19}  {title}")
        total, number = page.total, page.page
        more = f"; %trellis chats --page {number + 1} for more" if page.has_more else ""
        noun = "chat" if total == 1 else "chats"
        print(f"(page {number}, {total} {noun} in all{more}; %trellis use ID continues one)")

    def _cmd_use(self, args: argparse.Namespace) -> None:
        answers = self.session.use_chat(args.chat_id)
        if answers:
            self.session.last_answer = answers[-1]
            self._namespace["_trellis"] = answers[-1]
        count = len(answers)
        print(
            f"Continuing chat {args.chat_id}: {count} answer{'' if count == 1 else 's'} loaded"
            + ("; the last is in _trellis." if answers else ".")
        )

    def _cmd_new(self, args: argparse.Namespace) -> None:
        self.session.new_chat()
        print("The next question starts a new chat.")

    def _cmd_rename(self, args: argparse.Namespace) -> None:
        chat_id = self._current_chat("rename")
        title = " ".join(args.title)
        self.session.client.chats.rename(chat_id, title)
        print(f"Chat {chat_id} is now titled {title!r}.")

    def _cmd_delete(self, args: argparse.Namespace) -> None:
        chat_id = args.chat_id or self._current_chat("delete")
        self.session.client.chats.delete(chat_id)
        current = chat_id == self.session.chat_id
        self.session.forget_chat(chat_id)
        print(f"Deleted chat {chat_id}." + (" The next question starts a new chat." if current else ""))

    def _cmd_feedback(self, args: argparse.Namespace) -> None:
        rating = "positive" if args.rating == "up" else "negative"
        message_id = args.message_id
        if message_id is None:
            last = self.session.last_answer
            message_id = last.message_id if last is not None else None
            if message_id is None:
                raise UsageError("No answer to rate yet: ask a question first, or give a MESSAGE_ID.")
        self.session.client.chats.feedback(message_id, rating, note=args.note)
        print(f"Feedback recorded: thumbs {args.rating} on message {message_id}.")

    def _cmd_models(self, args: argparse.Namespace) -> None:
        body = self.session.client.models()
        default, chosen = body.get("default"), self.session.settings.model
        for model in body.get("models") or []:
            model_id = model.get("model_id")
            marks = [
                m for m, on in (("default", model_id == default), ("selected", model_id == chosen)) if on
            ]
            suffix = f"  [{', '.join(marks)}]" if marks else ""
            print(f"{model_id:22} {model.get('display_name') or ''}{suffix}")

    def _cmd_integrations(self, args: argparse.Namespace) -> None:
        items = self.session.integrations(refresh=True)
        if not items:
            print("The server offers no integrations.")
            return
        try:
            chosen = self.session.integration_id()
        except TrellisError:
            chosen = None
        for item in items:
            mark = "*" if item.get("id") == chosen else " "
            kind = item.get("type") or "database"
            print(f"{mark} {item.get('id')}  {item.get('display_name') or ''}  ({kind})")

    def _cmd_uploads(self, args: argparse.Namespace) -> None:
        magic_data.print_uploads(self.session)

    def _cmd_save(self, args: argparse.Namespace) -> None:
        magic_data.save_last(self.session, " ".join(args.title).strip())

    def _save_cell(self, title: str, body: str) -> None:
        magic_data.save_sql(self.session, title, body)

    def _cmd_queries(self, args: argparse.Namespace) -> None:
        magic_data.print_queries(self.session)

    def _cmd_replay(self, args: argparse.Namespace) -> None:
        magic_data.replay_command(self.session, args.action)

    def _cmd_widget(self, args: argparse.Namespace) -> Any:
        from .widget import ChatWidget

        return ChatWidget(session=self.session)

    def _current_chat(self, action: str) -> str:
        chat_id = self.session.chat_id
        if chat_id is None:
            raise UsageError(f"No chat to {action}: ask a question first, or %trellis use ID.")
        return chat_id


class ConnectFailedError(ConfigurationError):
    """``%trellis connect`` failed: the kernel stays on its previous connection, or on none."""


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and the ``Trellis`` configurable on ``ipython``."""
    session = get_session()
    settings = session.settings
    if settings not in ipython.configurables:
        ipython.configurables.append(settings)
    # Settings from ipython_config.py (c.Trellis.display_rows = 20) apply from the start.
    settings.update_config(ipython.config)
    ipython.register_magics(TrellisMagics(ipython, session))
    formatter = ipython.display_formatter.mimebundle_formatter
    for module in _ALTAIR_API:
        formatter.for_type_by_name(module, "TopLevelMixin", _altair_bundle)


# Altair's chart base class, by name: registering by name imports nothing (Altair takes seconds).
_ALTAIR_API = ("altair.vegalite.v6.api", "altair.vegalite.v5.api")


def _altair_bundle(chart: Any) -> Any:
    """Any Altair chart's display: the first one switches to the offline ``trellis`` renderer when
    the user kept Altair's default (Trellis.offline_charts), so their own charts need no CDN."""
    if get_session().settings.offline_charts:
        from .charts import enable_offline_charts

        enable_offline_charts()
    return chart._repr_mimebundle_(include=None, exclude=None)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics and the configurable; the session (and its chat) stays for a reload."""
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("trellis", None)
    manager.registry.pop(TrellisMagics.__name__, None)
    formatter = ipython.display_formatter.mimebundle_formatter
    for module in _ALTAIR_API:
        formatter.pop(f"{module}.TopLevelMixin", None)
    settings = get_session().settings
    if settings in ipython.configurables:
        ipython.configurables.remove(settings)
