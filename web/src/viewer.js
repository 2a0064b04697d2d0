// The three.js viewer: the splat as coloured points (alpha from opacity) and the mesh
// (GLB, vertex colours), orbit controls, and a toggle between them. It draws on demand:
// a frame when something changed, and frames while the orbit's damping settles, then
// nothing (a page with the viewer open stays as quick as one without). The frame count is
// on the container as `data-frames`, for the browser tests.
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { parseSplat } from './splat.js';

export class Viewer {
  constructor(container) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
    this.renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
    // A mid grey: dark and light objects both stand out against it.
    this.renderer.setClearColor(0x9aa1ad);
    this.renderer.outputColorSpace = THREE.SRGBColorSpace;
    container.append(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.camera = new THREE.PerspectiveCamera(40, 1, 0.01, 100);
    this.camera.position.set(1.2, 0.8, 1.6);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = true;
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x444444, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.6);
    sun.position.set(2, 3, 2);
    this.scene.add(sun);
    this.splat = null;
    this.mesh = null;
    this.frames = 0;
    this.pending = false;
    this.requestRender = () => {
      if (this.pending || this.disposed) return;
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        if (this.disposed) return;
        // true while the damped orbit is still moving: draw again next frame.
        const moving = this.controls.update();
        this.renderer.render(this.scene, this.camera);
        this.frames += 1;
        container.dataset.frames = String(this.frames);
        if (moving) this.requestRender();
      });
    };
    this.controls.addEventListener('change', this.requestRender);
    this.resize = () => {
      const w = container.clientWidth || 640;
      const h = Math.round(Math.min(520, Math.max(280, w * 0.62)));
      this.renderer.setSize(w, h);
      this.camera.aspect = w / h;
      this.camera.updateProjectionMatrix();
      this.requestRender();
    };
    this.resize();
    window.addEventListener('resize', this.resize);
  }

  setSplat(buffer) {
    const { count, positions, colours } = parseSplat(buffer);
    // The splat's colours are sRGB; three.js expects linear vertex colours.
    for (let i = 0; i < colours.length; i += 4) for (let k = 0; k < 3; k++) colours[i + k] = srgbToLinear(colours[i + k]);
    const geometry = new THREE.BufferGeometry();
    geometry.setAttribute('position', new THREE.BufferAttribute(positions, 3));
    geometry.setAttribute('color', new THREE.BufferAttribute(colours, 4));
    const material = new THREE.PointsMaterial({ size: 0.012, vertexColors: true, transparent: true, depthWrite: false });
    this.splat = new THREE.Points(geometry, material);
    this.scene.add(this.splat);
    this.frame(this.splat);
    this.requestRender();
    return { points: count };
  }

  async setMesh(buffer) {
    const gltf = await new GLTFLoader().parseAsync(buffer, '');
    this.mesh = gltf.scene;
    this.mesh.traverse((o) => {
      if (o.isMesh) o.material.side = THREE.DoubleSide;
    });
    this.scene.add(this.mesh);
    if (!this.splat) this.frame(this.mesh);
    this.requestRender();
  }

  /** 'splat', 'mesh' or 'both'. */
  show(which) {
    if (this.splat) this.splat.visible = which !== 'mesh';
    if (this.mesh) this.mesh.visible = which !== 'splat';
    this.requestRender();
  }

  frame(object) {
    const box = new THREE.Box3().setFromObject(object);
    if (box.isEmpty()) return;
    const centre = box.getCenter(new THREE.Vector3());
    const radius = box.getSize(new THREE.Vector3()).length() / 2 || 1;
    this.controls.target.copy(centre);
    this.camera.position.copy(centre).add(new THREE.Vector3(1.1, 0.7, 1.5).normalize().multiplyScalar(radius * 2.6));
    this.camera.near = radius / 100;
    this.camera.far = radius * 100;
    this.camera.updateProjectionMatrix();
    this.controls.update();
    this.requestRender();
  }

  dispose() {
    this.disposed = true;
    window.removeEventListener('resize', this.resize);
    this.controls.removeEventListener('change', this.requestRender);
    this.controls.dispose();
    this.scene.traverse((o) => {
      o.geometry?.dispose();
      o.material?.dispose?.();
    });
    this.renderer.dispose();
    this.renderer.domElement.remove();
  }
}

const srgbToLinear = (c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
