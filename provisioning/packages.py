"""The Debian packages a kiosk needs on Raspberry Pi OS (Bookworm, 64-bit), installed by
provisioning's first step when missing. Standard library only, as the provisioner."""

PACKAGES = (
    "python3-venv",
    "python3-dev",
    "build-essential",
    "pkg-config",
    # Kivy on KMS/DRM through SDL2, no desktop
    "libsdl2-2.0-0",
    "libsdl2-image-2.0-0",
    "libsdl2-ttf-2.0-0",
    "libsdl2-mixer-2.0-0",
    "libgl1",
    "libegl1",
    "libgles2",
    "libgbm1",
    "libdrm2",
    "libmtdev1",
    "fonts-dejavu-core",
    # devices: the USB printer (libusb), GPIO (lgpio on a Pi 5, works on a Pi 4 too)
    "libusb-1.0-0",
    "udev",
    "ca-certificates",
    # closing the OS (provisioning/hardening.py): USB device policy, the firewall
    "usbguard",
    "nftables",
    # Debian's security updates, in the night (provisioning/updates.py)
    "unattended-upgrades",
)
# only in Raspberry Pi OS's archive (lgpio for the lockers on a Pi 5; the venv's lgpio
# wheel links it): installed when the target's apt knows them
PI_PACKAGES = ("liblgpio-dev", "raspi-config")
