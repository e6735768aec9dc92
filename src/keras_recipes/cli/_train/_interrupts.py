"""Ctrl-C during `keras-recipes train`: stop the training, keep the run, exit 130."""

import signal
import sys
import threading


class Interrupts:
    """Remembers Ctrl-C during a run, so that no interrupt is lost.

    Python raises `KeyboardInterrupt` from its SIGINT handler wherever the
    main thread is. When that is a garbage-collection callback (JAX
    registers one, and Keras imports JAX even on TensorFlow), the
    interpreter reports "Exception ignored in: gc callback" and the run
    goes on to its end, exit status 0. So, while a run lasts, the handler
    also records the interrupt, `check()` (after every batch and epoch, and
    before the report) raises it again, and the swallowed one's report is
    not printed. Off the main thread, or where SIGINT is not Python's
    default handler (ignored in a background job, or a program's own),
    nothing is changed.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        self.requested = True
        raise KeyboardInterrupt

    def _unraisable(self, unraisable):
        if self.requested and isinstance(unraisable.exc_value, KeyboardInterrupt):
            return  # recorded: check() raises it where it can stop the run
        self._previous_hook(unraisable)

    def __enter__(self):
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = self._unraisable
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            sys.unraisablehook = self._previous_hook

    def check(self):
        """Raises `KeyboardInterrupt` if Ctrl-C was pressed, even if it was swallowed."""
        if self.requested:
            raise KeyboardInterrupt

    def callback(self, keras):
        """A Keras callback that calls `check()` after every batch and epoch."""
        interrupts = self

        class StopOnInterrupt(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                interrupts.check()

            def on_test_batch_end(self, batch, logs=None):
                interrupts.check()

            def on_epoch_end(self, epoch, logs=None):
                interrupts.check()

        return StopOnInterrupt()
