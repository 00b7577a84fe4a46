"""The event kinds of a plating run (MODEL.md section 5), one module each.

Each kind is an :class:`~kmc.events.base.Event` that turns the state and the field solution of
an epoch into kernel channels (and may react to topology changes). :data:`EVENTS` lists them
in channel order, which is part of the random stream: a new kind is one new module and one
line appended here (docs/extending.md shows a worked example).
"""
from .base import Channels, Epoch, Event
from .creep import Creep
from .electron_leak import ElectronLeakEvents
from .fracture import Fracture
from .stripping_voids import StrippingVoids
from .transfer import FaradaicTransfer

#: Event kinds in channel order.
EVENTS = [FaradaicTransfer, Fracture, Creep, ElectronLeakEvents, StrippingVoids]

__all__ = ["EVENTS", "Channels", "Epoch", "Event", "FaradaicTransfer", "Fracture", "Creep",
           "ElectronLeakEvents", "StrippingVoids"]
