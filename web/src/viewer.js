// The three.js viewer: the splat as real Gaussian splats (Spark: anisotropic, from each
// splat's scale and rotation, sorted, with opacity) and the mesh (GLB, vertex colours) in
// one scene, orbit controls, a first view from the photo's camera when the pose is known,
// reset view, auto-rotate, fullscreen and background. With `?splats=points` in the URL,
// or where Spark cannot run, splats are drawn as coloured points instead (the browser
// tests compare the two).
//
// It draws on demand: a frame when something changed (a drag, a toggle, Spark's sort
// finishing), frames while the orbit's damping settles or auto-rotate is on, then nothing
// (a page with the viewer open stays as quick as one without). The frame count is on the
// container as `data-frames`, for the browser tests.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { parseSplat } from './splat.js';

export const BACKGROUNDS = { grey: 0x9aa1ad, white: 0xf4f5f7, black: 0x15171c };

/** How the viewer draws splats: 'gaussian' (Spark) unless the URL asks for points. */
export function splatMode() {
  return new URLSearchParams(location.search).get('splats') === 'points' ? 'points' : 'gaussian';
}

export class Viewer {
  constructor(container, { pose = null, mode = splatMode() } = {}) {
    this.container = container;
    this.pose = pose;
    this.mode = mode;
    // Spark: antialiasing does not improve splats and costs a lot of fill rate.
    this.renderer = new THREE.WebGLRenderer({ antialias: false, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
    this.renderer.setClearColor(BACKGROUNDS.grey);
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    container.append(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.01, 100);
    this.camera.position.set(0, 0.2, 2);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.controls.autoRotateSpeed = 4; // a turn in 15 s
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x444444, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(2, 3, 2);
    this.scene.add(sun);
    this.splat = null;
    this.mesh = null;
    this.bounds = null;
    this.home = null;
    this.frames = 0;
    this.lastFrame = 0;
    this.pending = false;
    this.requestRender = () => {
      if (this.pending || this.disposed) return;
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        if (this.disposed) return;
        // true while the damped orbit is still moving or auto-rotating: draw again.
        // Auto-rotation by the time elapsed (not per frame), so it turns as fast at 5 fps.
        const dt = this.chained ? Math.min(1, (performance.now() - this.lastFrame) / 1000) : 0;
        const moving = this.controls.update(dt);
        this.renderer.render(this.scene, this.camera);
        // Damping eases a drag out over ~100 frames: at a few frames a second (software
        // rendering, a weak GPU) the view would drift on for many seconds, so stop easing.
        const now = performance.now();
        // (Measured between two frames of one easing, not after an idle spell.)
        if (moving && this.easing && now - this.lastFrame > 100) this.controls.enableDamping = false;
        this.easing = moving;
        this.lastFrame = now;
        this.frames += 1;
        container.dataset.frames = String(this.frames);
        this.chained = moving || this.controls.autoRotate;
        if (this.chained) this.requestRender();
      });
    };
    this.controls.addEventListener('change', this.requestRender);
    this.resize = () => {
      const full = document.fullscreenElement === container;
      const w = container.clientWidth || 640;
      const h = full ? window.innerHeight : Math.round(Math.min(520, Math.max(280, w * 0.62)));
      this.renderer.setSize(w, h);
      this.camera.aspect = w / h;
      this.camera.updateProjectionMatrix();
      this.requestRender();
    };
    this.resize();
    window.addEventListener('resize', this.resize);
    document.addEventListener('fullscreenchange', this.resize);
  }

  /** Shows the splat PLY; returns how it is drawn. */
  async setSplat(buffer) {
    const parsed = parseSplat(buffer); // checks the file, and gives the bounds in y-up
    this.bounds = new THREE.Box3().setFromArray(parsed.positions);
    let drawn = this.mode;
    if (this.mode === 'gaussian') {
      try {
        this.splat = await this.gaussians(buffer);
      } catch (err) {
        console.warn('Gaussian splats unavailable, drawing points:', err);
        drawn = 'points';
        this.fallback = String(err?.message ?? err);
      }
    }
    if (!this.splat) this.splat = points(parsed);
    this.scene.add(this.splat);
    this.container.dataset.renderer = drawn;
    this.firstView();
    return { points: parsed.count, renderer: drawn };
  }

  async gaussians(buffer) {
    // Spark is a large module: loaded only when a viewer opens.
    const { SparkRenderer, SplatMesh } = await import('@sparkjsdev/spark');
    if (!this.spark) {
      this.spark = new SparkRenderer({ renderer: this.renderer, onDirty: this.requestRender });
      this.scene.add(this.spark);
    }
    const mesh = new SplatMesh({ fileBytes: new Uint8Array(buffer.slice(0)), fileType: 'ply' });
    await mesh.initialized;
    // SAM 3D Objects' splats are z-up; glTF and this scene are y-up: (x, y, z) -> (x, z, -y).
    mesh.rotation.x = -Math.PI / 2;
    return mesh;
  }

  /** Shows a GLB (an object's mesh, or a scene of several); returns its root nodes' count. */
  async setMesh(buffer) {
    const gltf = await new GLTFLoader().parseAsync(buffer, '');
    this.mesh = gltf.scene;
    this.mesh.traverse((o) => {
      if (o.isMesh) o.material.side = THREE.DoubleSide;
    });
    this.scene.add(this.mesh);
    if (!this.bounds) {
      this.bounds = new THREE.Box3().setFromObject(this.mesh);
      this.firstView();
    }
    this.requestRender();
    return gltf.scene.children.length;
  }

  /** 'splat', 'mesh' or 'both'. */
  show(which) {
    if (this.splat) this.splat.visible = which !== 'mesh';
    if (this.mesh) this.mesh.visible = which !== 'splat';
    this.requestRender();
  }

  /**
   * The photo's viewpoint when the pose is known (SAM 3D Objects: object-local points p
   * map to the camera frame as s·R·p + t, the camera looking along +z with y down),
   * else a view from the front, slightly above.
   */
  firstView() {
    if (!this.bounds || this.bounds.isEmpty()) return;
    const centre = this.bounds.getCenter(new THREE.Vector3());
    const radius = this.bounds.getSize(new THREE.Vector3()).length() / 2 || 1;
    let forward = new THREE.Vector3(0, -0.25, -1); // from the camera into the scene
    let up = new THREE.Vector3(0, 1, 0);
    const r = this.pose?.rotation;
    if (Array.isArray(r) && r.length === 4 && r.every(Number.isFinite)) {
      const inverse = new THREE.Quaternion(r[1], r[2], r[3], r[0]).normalize().invert();
      const yUp = (v) => new THREE.Vector3(v.x, v.z, -v.y);
      forward = yUp(new THREE.Vector3(0, 0, 1).applyQuaternion(inverse));
      up = yUp(new THREE.Vector3(0, -1, 0).applyQuaternion(inverse));
    }
    forward.normalize();
    this.home = {
      target: centre.clone(),
      position: centre.clone().sub(forward.multiplyScalar(radius * 2.6)),
      up: up.normalize(),
      near: radius / 100,
      far: radius * 100,
    };
    this.container.dataset.view = this.pose ? 'photo' : 'front';
    this.resetView();
  }

  resetView() {
    if (!this.home) return;
    this.camera.up.copy(this.home.up);
    this.camera.position.copy(this.home.position);
    this.camera.near = this.home.near;
    this.camera.far = this.home.far;
    this.camera.updateProjectionMatrix();
    this.controls.target.copy(this.home.target);
    this.camera.lookAt(this.home.target);
    this.controls.update();
    this.requestRender();
  }

  autoRotate(on) {
    this.controls.autoRotate = on;
    this.requestRender();
  }

  background(name) {
    this.renderer.setClearColor(BACKGROUNDS[name] ?? BACKGROUNDS.grey);
    this.container.dataset.background = name;
    this.requestRender();
  }

  fullscreen() {
    if (document.fullscreenElement) return document.exitFullscreen();
    return this.container.requestFullscreen?.();
  }

  dispose() {
    this.disposed = true;
    window.removeEventListener('resize', this.resize);
    document.removeEventListener('fullscreenchange', this.resize);
    this.controls.removeEventListener('change', this.requestRender);
    this.controls.dispose();
    this.splat?.dispose?.();
    this.spark?.dispose?.();
    this.scene.traverse((o) => {
      o.geometry?.dispose?.();
      o.material?.dispose?.();
    });
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }
}

/** The splat as coloured points (alpha from opacity): the fallback and the tests' reference. */
function points({ positions, colours }) {
  // The splat's colours are sRGB; three.js expects linear vertex colours.
  for (let i = 0; i < colours.length; i += 4) for (let k = 0; k < 3; k++) colours[i + k] = srgbToLinear(colours[i + k]);
  const geometry = new THREE.BufferGeometry();
  geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
  geometry.setAttribute('color', new THREE.BufferAttribute(colours, 4));
  const material = new THREE.PointsMaterial({ size: 0.012, vertexColors: true, transparent: true, depthWrite: false });
  return new THREE.Points(geometry, material);
}

const srgbToLinear = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
