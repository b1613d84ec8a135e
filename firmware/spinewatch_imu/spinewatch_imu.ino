// spinewatch reference firmware: the open spinewatch sensor profile v1 (docs/protocol.md).
//
// Board: any ArduinoBLE board (Arduino Nano 33 BLE / nRF52840, ESP32 with ArduinoBLE).
// IMU:   a BMI270 through Arduino_BMI270_BMM150 (Nano 33 BLE Sense Rev2). Swap readImu()
//        for your IMU driver (ICM-42688: read the FIFO and its timestamps).
// Pins:  optional vibration motor / LED on MOTOR_PIN; optional tap input on TAP_PIN.
//
// Samples are stamped when they are taken (micros() at data-ready), never when they are
// sent: the host maps the sensor clock to its own and needs the true sampling instants.

#include <ArduinoBLE.h>
#include <Arduino_BMI270_BMM150.h>

#define SERVICE_UUID "7a5e0001-5b1d-4f3c-9a77-5350494e4531"
#define DATA_UUID    "7a5e0002-5b1d-4f3c-9a77-5350494e4531"
#define CONTROL_UUID "7a5e0003-5b1d-4f3c-9a77-5350494e4531"
#define INFO_UUID    "7a5e0004-5b1d-4f3c-9a77-5350494e4531"

static const int MOTOR_PIN = LED_BUILTIN;
static const uint8_t ACC_FS_G = 16;
static const uint16_t GYR_FS_DPS = 2000;
static const uint8_t MAX_BATCH = 19;  // fits MTU 247

BLEService service(SERVICE_UUID);
BLECharacteristic dataChar(DATA_UUID, BLENotify, 16 + MAX_BATCH * 12);
BLECharacteristic controlChar(CONTROL_UUID, BLEWrite, 8);
BLECharacteristic infoChar(INFO_UUID, BLERead, 7);
BLEService batteryService("180F");
BLEUnsignedCharCharacteristic batteryChar("2A19", BLERead | BLENotify);

uint16_t rateHz = 200;
uint8_t batch = 4;
bool streaming = false;
uint16_t seq = 0;
uint32_t signalUntil = 0;

uint8_t packet[16 + MAX_BATCH * 12];
uint8_t nInPacket = 0;

static void put16(uint8_t *p, uint16_t v) { p[0] = v & 0xFF; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (v >> (8 * i)) & 0xFF; }
static int16_t sat(float x) { return x > 32767 ? 32767 : (x < -32768 ? -32768 : (int16_t)lroundf(x)); }

void writeInfo() {
  uint8_t info[7] = {1, 0, 0, batch, ACC_FS_G, 0, 0};
  put16(info + 1, rateHz);
  put16(info + 5, GYR_FS_DPS);
  infoChar.writeValue(info, sizeof info);
}

void onControl(BLEDevice, BLECharacteristic c) {
  const uint8_t *v = c.value();
  int n = c.valueLength();
  if (n < 1) return;
  switch (v[0]) {
    case 0x01: streaming = true; nInPacket = 0; break;
    case 0x02: streaming = false; break;
    // The BMI270 library runs at a fixed rate: ignore 0x03 and keep reporting the real rate.
    case 0x03: writeInfo(); break;
    case 0x04: if (n >= 2) { batch = constrain(v[1], 1, MAX_BATCH); writeInfo(); } break;
    case 0x05: if (n >= 4) { signalUntil = millis() + (v[2] | (v[3] << 8)); digitalWrite(MOTOR_PIN, HIGH); } break;
  }
}

void setup() {
  pinMode(MOTOR_PIN, OUTPUT);
  if (!IMU.begin() || !BLE.begin()) { while (true) { digitalWrite(MOTOR_PIN, millis() / 100 % 2); } }
  rateHz = (uint16_t)IMU.accelerationSampleRate();  // 100 Hz on the BMI270 library default
  BLE.setLocalName("spinewatch-imu");
  BLE.setAdvertisedService(service);
  service.addCharacteristic(dataChar);
  service.addCharacteristic(controlChar);
  service.addCharacteristic(infoChar);
  batteryService.addCharacteristic(batteryChar);
  BLE.addService(service);
  BLE.addService(batteryService);
  controlChar.setEventHandler(BLEWritten, onControl);
  writeInfo();
  batteryChar.writeValue(100);
  BLE.advertise();
}

void loop() {
  BLE.poll();
  if (signalUntil && millis() > signalUntil) { digitalWrite(MOTOR_PIN, LOW); signalUntil = 0; }
  BLEDevice central = BLE.central();
  if (!central || !central.connected()) { streaming = false; return; }
  float ax, ay, az, gx, gy, gz;
  if (!streaming || !IMU.accelerationAvailable() || !IMU.gyroscopeAvailable()) return;
  uint32_t t = micros();  // sampling instant (data ready)
  IMU.readAcceleration(ax, ay, az);  // g
  IMU.readGyroscope(gx, gy, gz);     // deg/s
  if (nInPacket == 0) {
    packet[0] = 1; packet[1] = 0; packet[3] = ACC_FS_G;
    put16(packet + 4, GYR_FS_DPS);
    put16(packet + 6, seq);
    put32(packet + 8, t);
    put16(packet + 12, (uint16_t)(1000000UL / rateHz));
    packet[14] = 255;  // battery unknown unless you wire a divider
    packet[15] = 0;
  }
  uint8_t *s = packet + 16 + nInPacket * 12;
  const float a = 32768.0f / ACC_FS_G, g = 32768.0f / GYR_FS_DPS;
  put16(s + 0, sat(ax * a)); put16(s + 2, sat(ay * a)); put16(s + 4, sat(az * a));
  put16(s + 6, sat(gx * g)); put16(s + 8, sat(gy * g)); put16(s + 10, sat(gz * g));
  nInPacket++;
  seq++;
  if (nInPacket >= batch) {
    packet[2] = nInPacket;
    dataChar.writeValue(packet, 16 + nInPacket * 12);
    nInPacket = 0;
  }
}
