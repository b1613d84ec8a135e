"""A bleak backend on bumble's in-process virtual controllers: real GATT, no radio.

``BleakScanner(backend=BumbleScanner, radio=radio)`` and
``BleakClient(device, backend=BumbleClient, radio=radio)`` run bleak's public API against
peripherals that live on the same :class:`VirtualRadio` (bumble ``LocalLink``): advertising,
connection, MTU exchange, service discovery, notifications, writes and disconnects all go
through bumble's host and controller stacks. The application code is the same as with a
real adapter; only the backend class differs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from bleak.assigned_numbers import gatt_char_props_to_strs
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble.controller import Controller
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device, Peer
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

logging.getLogger("bumble").setLevel(logging.ERROR)  # its warnings are about the simulation


def full_uuid(u: UUID) -> str:
    """bumble UUID → bleak's normalised 128-bit lower-case string."""
    raw = bytes(u.to_pdu_bytes())
    if len(raw) == 2:
        return f"0000{int.from_bytes(raw, 'little'):04x}-0000-1000-8000-00805f9b34fb"
    h = raw[::-1].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class VirtualRadio:
    """One shared virtual radio: a bumble ``LocalLink`` with a central and its peripherals."""

    def __init__(self) -> None:
        self.link = LocalLink()
        self._central: Device | None = None
        self._n = 0
        self._lock = asyncio.Lock()
        # A controller creates one connection at a time (BlueZ queues them the same way).
        self.connect_lock = asyncio.Lock()
        self.refuse: set[str] = set()  # peripheral addresses that drop every connection

    def new_address(self) -> str:
        """A fresh static-random address (top bits 11) for a simulated device."""
        self._n += 1
        return f"C0:5E:00:00:{self._n // 256:02X}:{self._n % 256:02X}"

    def new_device(self, name: str, address: str | None = None) -> Device:
        """A bumble device on this radio (needs a running event loop)."""
        addr = address or self.new_address()
        ctl = Controller(name, link=self.link, public_address=addr)
        return Device(name=name, address=Address(addr), host=Host(ctl, AsyncPipeSink(ctl)))

    async def central(self) -> Device:
        """The host-side device (our 'adapter'), powered on first use."""
        async with self._lock:
            if self._central is None:
                dev = self.new_device("spinewatch-host", "F0:F0:F0:F0:F0:F0")
                await dev.power_on()
                self._central = dev
        return self._central


def _adv_to_bleak(adv: Any) -> tuple[str | None, AdvertisementData]:
    data: AdvertisingData = adv.data
    name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
        AdvertisingData.SHORTENED_LOCAL_NAME
    )
    name_s = name.decode() if isinstance(name, bytes) else name
    uuids: list[str] = []
    for kind in (
        AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
        AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
    ):
        for u in data.get_all(kind) or []:
            uuids.extend(full_uuid(x) for x in (u if isinstance(u, list) else [u]))
    ad = AdvertisementData(
        local_name=name_s,
        manufacturer_data={},
        service_data={},
        service_uuids=uuids,
        tx_power=None,
        rssi=int(adv.rssi),
        platform_data=(adv,),
    )
    return name_s, ad


class BumbleScanner(BaseBleakScanner):
    """bleak scanner backend over a :class:`VirtualRadio` (pass ``radio=`` to BleakScanner)."""

    def __init__(
        self,
        detection_callback: Any,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        *,
        radio: VirtualRadio,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._radio = radio
        self._device: Device | None = None

    def _on_adv(self, adv: Any) -> None:
        name, ad = _adv_to_bleak(adv)
        if not self.is_allowed_uuid(ad.service_uuids):
            return
        addr = str(adv.address).split("/")[0]
        dev = self.create_or_update_device(addr, addr, name, adv, ad)
        self.call_detection_callbacks(dev, ad)

    async def start(self) -> None:
        self.seen_devices = {}
        self._device = await self._radio.central()
        self._device.on("advertisement", self._on_adv)
        await self._device.start_scanning(filter_duplicates=False)

    async def stop(self) -> None:
        if self._device is not None:
            with contextlib.suppress(Exception):
                await self._device.stop_scanning()
            self._device.remove_listener("advertisement", self._on_adv)


class BumbleClient(BaseBleakClient):
    """bleak client backend over a :class:`VirtualRadio` (pass ``radio=`` to BleakClient)."""

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        radio: VirtualRadio,
        services: Any = None,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._radio = radio
        self._conn: Connection | None = None
        self._peer: Peer | None = None
        self._mtu = 23
        self._subs: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self.address

    @property
    def mtu_size(self) -> int:
        return self._mtu

    @property
    def is_connected(self) -> bool:
        return self._conn is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        central = await self._radio.central()
        try:
            # bumble's own timeout cancels the pending connection cleanly; the outer one is
            # only a safety net.
            async with asyncio.timeout(self._timeout + 2.0), self._radio.connect_lock:
                conn = await central.connect(Address(self.address), timeout=self._timeout)
        except TimeoutError as exc:
            raise BleakDeviceNotFoundError(self.address, f"{self.address} did not answer") from exc
        except Exception as exc:  # bumble raises its own errors for refused connections
            raise BleakError(f"connection to {self.address} failed: {exc}") from exc
        self._conn = conn
        conn.on("disconnection", self._on_disconnection)
        try:
            peer = Peer(conn)
            self._mtu = await peer.request_mtu(247)
            await peer.discover_services()
            self.services = BleakGATTServiceCollection()
            for s in peer.services:
                await peer.discover_characteristics(service=s)
                bs = BleakGATTService(s, s.handle, full_uuid(s.uuid))
                self.services.add_service(bs)
                for c in s.characteristics:
                    await peer.discover_descriptors(c)
                    # bumble's properties are the GATT bit mask; bleak names them itself.
                    props = sorted(gatt_char_props_to_strs(int(c.properties)))
                    bc = BleakGATTCharacteristic(
                        c,
                        c.handle,
                        full_uuid(c.uuid),
                        props,
                        lambda: self._mtu - 3,
                        bs,
                    )
                    self.services.add_characteristic(bc)
                    for d in c.descriptors:
                        self.services.add_descriptor(
                            BleakGATTDescriptor(d, d.handle, full_uuid(d.type), bc)
                        )
            self._peer = peer
        except Exception:
            await self.disconnect()
            raise

    def _on_disconnection(self, reason: int) -> None:
        was = self._conn is not None
        self._conn = self._peer = None
        if was and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        conn, self._conn, self._peer = self._conn, None, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.disconnect(), 2.0)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("the virtual radio does not pair")

    async def unpair(self) -> None:
        raise NotImplementedError("the virtual radio does not pair")

    def _need_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kw: Any
    ) -> bytearray:
        return bytearray(await self._need_peer().read_value(characteristic.obj))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kw: Any
    ) -> bytearray:
        return bytearray(await self._need_peer().read_value(descriptor.obj))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        await self._need_peer().write_value(characteristic.obj, bytes(data), response)

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        await self._need_peer().write_value(descriptor.obj, bytes(data), True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kw: Any
    ) -> None:
        def sub(value: bytes) -> None:
            callback(bytearray(value))

        self._subs[characteristic.handle] = sub
        await self._need_peer().subscribe(characteristic.obj, sub)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        sub = self._subs.pop(characteristic.handle, None)
        if self._peer is not None:
            await self._peer.unsubscribe(characteristic.obj, sub)
